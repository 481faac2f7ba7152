"""The portal's user: an e-mail address is the login, there is no username."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.functions import Lower

EMAIL_TAKEN = "A user with this e-mail address already exists."


class UserManager(DjangoUserManager["User"]):
    """Django's manager, keyed by e-mail instead of username (so create_user and
    create_superuser take other arguments than Django's: their `type: ignore[override]`)."""

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    @transaction.atomic
    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        """A superuser, whose address counts as verified: `createsuperuser` is run by whoever
        holds the server, and with mandatory verification the portal's login would otherwise
        stop them at "Verify your e-mail" (admin signs in through that login too)."""
        from allauth.account.models import EmailAddress  # here: allauth's models refer to User

        extra.update(is_staff=True, is_superuser=True)
        user = self._create_user(email, password, **extra)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        return user


class User(AbstractUser):
    # No username: the e-mail is the login. Django lets a model drop a parent's field; mypy
    # sees a str field given None.
    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True, error_messages={"unique": EMAIL_TAKEN})
    # The running balance of the credit ledger, changed only by accounts.credits in the same
    # transaction as the entry that explains it; the database refuses a negative balance.
    credits = models.IntegerField(default=0, editable=False)
    # Changed each time a password-reset link is sent and part of the link's signature, so the
    # newest link is the only one that works (accounts.reset_links).
    password_reset_nonce = models.CharField(max_length=32, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            # "Ann@Example.com" and "ann@example.com" are one person.
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=EMAIL_TAKEN,
            ),
            models.CheckConstraint(
                condition=models.Q(credits__gte=0), name="accounts_user_credits_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.email


class CreditEntry(models.Model):
    """One line of a user's credit ledger: what changed, why, and what caused it."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.IntegerField(help_text="Positive for grants and refunds, negative for debits.")
    reason = models.CharField(max_length=200)
    cause_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cause_id = models.PositiveBigIntegerField(null=True, blank=True)
    cause = GenericForeignKey("cause_type", "cause_id")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        # Entries are written by the credit services only; this is the staff permission to
        # write one by hand (admin's "Grant or take credits"), apart from changing users.
        permissions = [("grant_credits", "Can grant or take credits")]
        constraints = [
            # One debit, at most one refund and at most one grant per cause: a retried or
            # doubled request cannot charge, refund or (a purchase) grant twice. Grants
            # without a cause (welcome credits, staff's goodwill) may repeat.
            models.UniqueConstraint(
                fields=["kind", "cause_type", "cause_id"],
                condition=models.Q(kind__in=["debit", "refund"])
                | models.Q(kind="grant", cause_type__isnull=False),
                name="accounts_credit_once_per_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.reason}"


class OutboxEmail(models.Model):
    """An e-mail waiting to leave, written in the transaction that caused it (the outbox):
    a worker sends it, and a beat task sends again what a lost task or a failing mail server
    left pending, so a broker that was down at the commit loses nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"

    subject = models.CharField(max_length=300)
    # The body may hold a sign-in or reset link: admin never shows it.
    body = models.TextField()
    html = models.TextField(blank=True)
    to = models.JSONField(default=list)
    from_email = models.CharField(max_length=300, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # Set while one worker sends it; a send that died lets go when it lapses.
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_try_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "outgoing e-mail"

    def __str__(self) -> str:
        return self.subject
