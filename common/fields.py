from django.db import models

from common.crypto import decrypt, encrypt


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; Python code sees plaintext. Empty stays empty (no secret)."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
