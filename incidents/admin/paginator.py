"""A paginator for long histories."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows: a broad search or filter over a million incidents would
    otherwise count every match just to draw page links. Past the cap the changelist says "more
    than 10,000" and links the first 200 pages; narrowing the filters shows the rest."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        # Unordered: the rows counted need no sorting, only a stop after cap + 1.
        return self.object_list.order_by()[: self.cap + 1].count()
