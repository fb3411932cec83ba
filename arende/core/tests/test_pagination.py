import pytest
from django.template import Context, Template

from arende.core.models import Organisation
from arende.core.pagination import CappedPaginator
from arende.core.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_counts_stop_at_the_cap():
    for _ in range(7):
        OrganisationFactory()
    paginator = CappedPaginator(Organisation.objects.order_by("pk"), 2, cap=5)
    assert (paginator.count, paginator.is_capped, paginator.num_pages) == (5, True, 3)
    exact = CappedPaginator(Organisation.objects.order_by("pk"), 2, cap=7)
    assert (exact.count, exact.is_capped) == (7, False)
    assert len(paginator.page(1).object_list) == 2


def test_capped_counts_are_shown_with_a_plus():
    from django.utils import translation

    template = Template("{% load arende %}{{ a|at_most:1000 }}|{{ b|at_most:1000 }}")
    with translation.override("sv"):
        assert template.render(Context({"a": 1001, "b": 999})) == "1\xa0000+|999"
    with translation.override("en"):
        assert template.render(Context({"a": 1001, "b": 999})) == "1,000+|999"
