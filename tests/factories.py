import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from incidents.models import Incident, Priority, Service


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        """UserFactory(groups=["Responder"]) puts the user in those built-in groups."""
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    type = "web"
    owner_team = "platform"


class IncidentFactory(factory.django.DjangoModelFactory):
    """A `new` incident written directly, for read-side tests. Tests of behaviour go through
    incidents.services so the timeline and SLA fields are what production writes."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"INC-2000-{n + 1:04d}")
    title = factory.Sequence(lambda n: f"Incident {n}")
    priority = factory.LazyFunction(lambda: Priority.objects.get(code="P3"))
    detected_at = factory.LazyFunction(timezone.now)
    started_at = factory.SelfAttribute("detected_at")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)
