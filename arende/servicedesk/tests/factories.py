from __future__ import annotations

import factory

from arende.servicedesk.models import SupportGroup


class SupportGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Grupp {n}")
    line = 1

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.add(*extracted)
