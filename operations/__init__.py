"""What running the service needs besides the product: the load balancer's health checks
(health.py), error reports with secrets scrubbed (sentry.py), the Content-Security-Policy
header with storage's origin (csp.py), and `manage.py astria_smoke` (astria_smoke.py), the
end-to-end check of the configured Astria. It knows nothing of the apps but the storage helper
and, for the smoke test, the portal's copier of results (tunes/ingest.py), so that the check
covers the image-host allow-list too."""
