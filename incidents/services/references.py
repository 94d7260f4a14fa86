from django.db import IntegrityError, transaction
from django.db.models import F

from incidents.models import IncidentSequence


def reference_next(*, year: int) -> str:
    """Hand out the next INC-<year>-<nnnn> reference, gap-free and unique under concurrency.

    The UPDATE takes the sequence row's lock until the caller's transaction commits, so a second
    creator waits instead of reading the same number; a rolled-back creation gives its number back.
    """
    for _ in range(2):
        with transaction.atomic():
            if IncidentSequence.objects.filter(year=year).update(last_number=F("last_number") + 1):
                number = IncidentSequence.objects.values_list("last_number", flat=True).get(year=year)
                return f"INC-{year}-{number:04d}"
        try:
            # First incident of the year; a concurrent creator may insert the row first, so retry.
            with transaction.atomic():
                IncidentSequence.objects.create(year=year, last_number=0)
        except IntegrityError:
            pass
    raise RuntimeError(f"Could not allocate an incident reference for {year}")
