"""The notification templates Ärende starts with, in Swedish and English.

``sync_templates`` creates any that are missing after each migration and never overwrites one
an administrator has edited. The variables each template may use are listed in
``arende.mail.rendering.VARIABLES``.
"""

from __future__ import annotations

DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("receipt", "sv"): (
        "[{{ reference }}] Vi har tagit emot ditt ärende: {{ title }}",
        """Hej {{ recipient_name }},

tack, vi har tagit emot ditt ärende och gett det referensnumret {{ reference }}.

Rubrik: {{ title }}

Vi återkommer så snart vi kan. Vill du lägga till något svarar du bara på det här
mejlet, eller så följer du ärendet här:
{{ ticket_url }}

Med vänliga hälsningar
IT-servicedesk""",
    ),
    ("receipt", "en"): (
        "[{{ reference }}] We have received your request: {{ title }}",
        """Hello {{ recipient_name }},

thank you, we have received your request and given it the reference {{ reference }}.

Title: {{ title }}

We will get back to you as soon as we can. To add something, just reply to this e-mail,
or follow the ticket here:
{{ ticket_url }}

Kind regards
IT service desk""",
    ),
    ("reply", "sv"): (
        "[{{ reference }}] Nytt svar i ditt ärende: {{ title }}",
        """Hej {{ recipient_name }},

{{ author }} har svarat i ärende {{ reference }}:

{{ message }}

Svara på det här mejlet om du vill lägga till något, eller följ ärendet här:
{{ ticket_url }}

Med vänliga hälsningar
IT-servicedesk""",
    ),
    ("reply", "en"): (
        "[{{ reference }}] New reply to your request: {{ title }}",
        """Hello {{ recipient_name }},

{{ author }} has replied to ticket {{ reference }}:

{{ message }}

Reply to this e-mail to add something, or follow the ticket here:
{{ ticket_url }}

Kind regards
IT service desk""",
    ),
    ("resolved", "sv"): (
        "[{{ reference }}] Ditt ärende är löst: {{ title }}",
        """Hej {{ recipient_name }},

ditt ärende {{ reference }} är löst.

Lösning:
{{ resolution }}

Är det inte löst svarar du på det här mejlet inom {{ reopen_days }} dagar, så öppnar vi
ärendet igen.

Vad tyckte du om hjälpen? Betygsätt den här (tar en halv minut):
{{ rating_url }}

Med vänliga hälsningar
IT-servicedesk""",
    ),
    ("resolved", "en"): (
        "[{{ reference }}] Your request is resolved: {{ title }}",
        """Hello {{ recipient_name }},

your ticket {{ reference }} is resolved.

Resolution:
{{ resolution }}

If it is not solved, reply to this e-mail within {{ reopen_days }} days and we will reopen
the ticket.

How did we do? Rate the help here (it takes half a minute):
{{ rating_url }}

Kind regards
IT service desk""",
    ),
    ("assigned", "sv"): (
        "[{{ reference }}] Tilldelat dig: {{ title }}",
        """Hej {{ recipient_name }},

ärende {{ reference }} har tilldelats dig{% if actor %} av {{ actor }}{% endif %}.

Rubrik: {{ title }}
Prioritet: {{ priority }}
Beställare: {{ requester }}

{{ ticket_url }}""",
    ),
    ("assigned", "en"): (
        "[{{ reference }}] Assigned to you: {{ title }}",
        """Hello {{ recipient_name }},

ticket {{ reference }} has been assigned to you{% if actor %} by {{ actor }}{% endif %}.

Title: {{ title }}
Priority: {{ priority }}
Requester: {{ requester }}

{{ ticket_url }}""",
    ),
    ("escalated", "sv"): (
        "[{{ reference }}] Eskalerat till {{ group }}: {{ title }}",
        """Hej {{ recipient_name }},

ärende {{ reference }} har eskalerats till andra linjen ({{ group }}){% if actor %} av {{ actor }}{% endif %}.

Anledning:
{{ message }}

Prioritet: {{ priority }}
{{ ticket_url }}""",
    ),
    ("escalated", "en"): (
        "[{{ reference }}] Escalated to {{ group }}: {{ title }}",
        """Hello {{ recipient_name }},

ticket {{ reference }} has been escalated to the second line ({{ group }}){% if actor %} by {{ actor }}{% endif %}.

Reason:
{{ message }}

Priority: {{ priority }}
{{ ticket_url }}""",
    ),
    ("requester_replied", "sv"): (
        "[{{ reference }}] Beställaren har svarat: {{ title }}",
        """Hej {{ recipient_name }},

{{ author }} har svarat i ärende {{ reference }}:

{{ message }}

{{ ticket_url }}""",
    ),
    ("requester_replied", "en"): (
        "[{{ reference }}] The requester replied: {{ title }}",
        """Hello {{ recipient_name }},

{{ author }} replied to ticket {{ reference }}:

{{ message }}

{{ ticket_url }}""",
    ),
    ("sla", "sv"): (
        "[{{ reference }}] SLA {{ sla_level }}: {{ title }}",
        """Hej {{ recipient_name }},

ärende {{ reference }} närmar sig eller har passerat sin tidsgräns.

Mått: {{ sla_metric }}
Läge: {{ sla_level }}
Tidsgräns: {{ sla_deadline }}
Prioritet: {{ priority }}

{{ ticket_url }}""",
    ),
    ("sla", "en"): (
        "[{{ reference }}] SLA {{ sla_level }}: {{ title }}",
        """Hello {{ recipient_name }},

ticket {{ reference }} is close to or past its deadline.

Measure: {{ sla_metric }}
State: {{ sla_level }}
Deadline: {{ sla_deadline }}
Priority: {{ priority }}

{{ ticket_url }}""",
    ),
    ("digest", "sv"): (
        "{{ count }} ärenden har ändrats",
        """Hej {{ recipient_name }},

det här har hänt i {{ count }} ärenden:
{% for item in items %}
- {{ item.reference }} {{ item.title }}
  {{ item.what }}{% if item.text %}
  {{ item.text }}{% endif %}{% if item.rating_url %}
  Vad tyckte du om hjälpen? {{ item.rating_url }}{% endif %}
  {{ item.url }}
{% endfor %}
Med vänliga hälsningar
IT-servicedesk""",
    ),
    ("digest", "en"): (
        "{{ count }} tickets have changed",
        """Hello {{ recipient_name }},

this has happened in {{ count }} tickets:
{% for item in items %}
- {{ item.reference }} {{ item.title }}
  {{ item.what }}{% if item.text %}
  {{ item.text }}{% endif %}{% if item.rating_url %}
  How did we do? {{ item.rating_url }}{% endif %}
  {{ item.url }}
{% endfor %}
Kind regards
IT service desk""",
    ),
    ("action_overdue", "sv"): (
        "[{{ reference }}] Påminnelse: åtgärd efter störningen är försenad",
        """Hej {{ recipient_name }},

du äger en åtgärd från uppföljningen av {{ reference }} {{ title }}
som skulle ha varit klar {{ due_date }}:

{{ action }}

Markera den som klar när den är gjord, eller kom överens med incidentansvarig om ett
nytt datum:
{{ incident_url }}

Du får en påminnelse i veckan så länge åtgärden är öppen och försenad.""",
    ),
    ("action_overdue", "en"): (
        "[{{ reference }}] Reminder: a follow-up action is overdue",
        """Hello {{ recipient_name }},

you own an action from the review of {{ reference }} {{ title }}
that was due on {{ due_date }}:

{{ action }}

Mark it as done when it is, or agree a new date with the incident manager:
{{ incident_url }}

You are reminded once a week while the action is open and overdue.""",
    ),
}


def sync_templates() -> int:
    """Create the missing default templates; returns how many were created."""
    from arende.mail.models import NotificationTemplate

    existing = set(NotificationTemplate.objects.values_list("kind", "language"))
    missing = [
        NotificationTemplate(kind=kind, language=language, subject=subject, body=body)
        for (kind, language), (subject, body) in DEFAULT_TEMPLATES.items()
        if (kind, language) not in existing
    ]
    NotificationTemplate.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def sync_templates_after_migrate(sender, using: str = "default", **kwargs) -> None:
    sync_templates()
