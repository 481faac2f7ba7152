"""What running the service needs besides the product: the load balancer's health checks
(health.py), error reports with secrets scrubbed (sentry.py) and the Content-Security-Policy
header with storage's origin (csp.py). It knows nothing of the apps but the storage helper."""
