"""Selfie sets and their photos: the raw material of every photoshoot, and its most private."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from accounts.models import User


class SubjectClass(models.TextChoices):
    """Who is in the photos: Astria's class name for the tune (the one list of them)."""

    MAN = "man", "Man"
    WOMAN = "woman", "Woman"
    BOY = "boy", "Boy"
    GIRL = "girl", "Girl"
    BABY = "baby", "Baby"
    CAT = "cat", "Cat"
    DOG = "dog", "Dog"
    COUPLE = "couple", "Couple"


class SelfieSetQuerySet(models.QuerySet["SelfieSet"]):
    def for_user(self, user: User) -> SelfieSetQuerySet:
        return self.filter(owner=user)


class SelfieSet(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="selfie_sets"
    )
    name = models.CharField(max_length=80)
    subject_class = models.CharField(
        "who is in the photos", max_length=20, choices=SubjectClass.choices
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SelfieSetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Selfie(models.Model):
    """One photo: issued an upload key, then verified and stored normalised, or deleted."""

    class Status(models.TextChoices):
        PENDING = "pending", "Uploading"
        READY = "ready", "Ready"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    selfie_set = models.ForeignKey(SelfieSet, on_delete=models.CASCADE, related_name="selfies")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    original_name = models.CharField(max_length=255, blank=True)
    # Where the browser uploads the original (removed once normalised); server-chosen, random.
    upload_key = models.CharField(max_length=300, unique=True)
    content_type = models.CharField(max_length=50)
    image = models.CharField(max_length=300, blank=True)  # normalised JPEG, sent to Astria
    thumbnail = models.CharField(max_length=300, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    # 64-bit difference hash, as 16 hex digits: near-duplicates differ in few bits.
    dhash = models.CharField(max_length=16, blank=True)
    hints = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name or str(self.code)
