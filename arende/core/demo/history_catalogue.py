"""The demo's service catalogue and the words people use: data for history.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One category of the demo: its service, share of the inflow, who solves it and what
    people write."""

    category: str
    service: str
    service_description: str
    weight: float
    first_line: float  # share the first line solves without escalating
    group: str  # second-line group for the rest
    titles: tuple[str, ...]
    resolutions: tuple[str, ...]


KINDS = (
    Kind(
        "Konto och behörighet",
        "Konto och behörighet",
        "Inloggning, lösenord, tvåfaktorsinloggning och behörigheter i kommunens system.",
        0.22,
        0.90,
        "System och integration",
        (
            "Glömt lösenordet",
            "Kontot är låst",
            "Tvåfaktorsinloggningen fungerar inte på nya telefonen",
            "Behörighet till gemensam mapp",
            "Saknar åtkomst till Teams-gruppen",
            "Lösenordet gått ut under semestern",
        ),
        (
            "Lösenordet återställt, användaren har loggat in.",
            "Kontot upplåst och behörigheten tillagd.",
            "Ny telefon registrerad för tvåfaktorsinloggning.",
        ),
    ),
    Kind(
        "Skrivare",
        "Utskrift och skanning",
        "Skrivare, kopiatorer och skanning till e-post.",
        0.10,
        0.75,
        "Drift och nätverk",
        (
            "Skrivaren skriver inte ut",
            "Papperstrassel i skrivaren på plan 2",
            "Kan inte skanna till e-post",
            "Utskrifter fastnar i kön",
            "Ny skrivare behöver installeras",
        ),
        (
            "Skrivarkön rensad och drivrutinen ominstallerad.",
            "Servicetekniker har bytt valsen.",
            "Skanningsprofilen uppdaterad med rätt e-postadress.",
        ),
    ),
    Kind(
        "Telefoni och växel",
        "Telefoni och växel",
        "Växeln, hänvisningar, svarsgrupper, mobiltelefoni.",
        0.10,
        0.55,
        "Telefoni och växel",
        (
            "Vidarekopplingen fungerar inte",
            "Mobilen tar inte emot samtal",
            "Ändra hänvisning i växeln",
            "Röstbrevlådan behöver återställas",
            "Svarsgruppen ringer inte hos alla",
        ),
        (
            "Hänvisningen ändrad i växeln.",
            "Svarsgruppen omkonfigurerad, testsamtal fungerar.",
            "Abonnemanget aktiverat hos operatören.",
        ),
    ),
    Kind(
        "E-post",
        "E-post och kalender",
        "E-post, delade brevlådor och kalendrar.",
        0.10,
        0.82,
        "Drift och nätverk",
        (
            "Kan inte skicka e-post",
            "Den delade brevlådan syns inte i Outlook",
            "Brevlådan är full",
            "Skräppost från extern avsändare",
            "Kalenderinbjudningar försvinner",
        ),
        (
            "Behörighet till den delade brevlådan tillagd.",
            "Brevlådan arkiverad och utökad.",
            "Avsändaren spärrad i e-postfiltret.",
        ),
    ),
    Kind(
        "Verksamhetssystem",
        "Verksamhetssystem",
        "Förvaltningarnas system: vård och omsorg, skola, ekonomi, ärendehantering.",
        0.16,
        0.38,
        "System och integration",
        (
            "Procapita: kan inte signera journalanteckning",
            "Visma: attestflödet hänger",
            "Ciceron: dokument går inte att öppna",
            "Lifecare är mycket långsamt",
            "Skolplattformen: elever saknas i gruppen",
            "Ekonomisystemet ger felmeddelande vid inloggning",
        ),
        (
            "Leverantören har rättat felet i senaste versionen.",
            "Integrationen omstartad, data synkad.",
            "Rollen i systemet justerad.",
        ),
    ),
    Kind(
        "Nätverk och wifi",
        "Nätverk och wifi",
        "Trådlöst och trådbundet nät, VPN, gästnät.",
        0.09,
        0.50,
        "Drift och nätverk",
        (
            "Inget wifi i kommunhuset plan 3",
            "VPN kopplar ner hela tiden",
            "Långsamt nätverk på skolan",
            "Nätverksuttaget fungerar inte",
            "Gästnätet nere på biblioteket",
        ),
        (
            "Accesspunkten utbytt.",
            "Porten aktiverad i switchen.",
            "VPN-klienten uppdaterad.",
        ),
    ),
    Kind(
        "Hårdvara",
        "Dator och kringutrustning",
        "Datorer, skärmar, dockor och tillbehör.",
        0.13,
        0.78,
        "Drift och nätverk",
        (
            "Datorn startar inte",
            "Skärmen flimrar",
            "Dockningsstationen laddar inte",
            "Datorn är mycket långsam",
            "Batteriet håller inte en halv dag",
        ),
        (
            "Datorn ominstallerad.",
            "Dockningsstationen utbytt.",
            "Batteriet bytt under garantin.",
        ),
    ),
    Kind(
        "Beställning",
        "Beställningar",
        "Beställ utrustning, program och konton.",
        0.10,
        0.62,
        "System och integration",
        (
            "Beställning av programvara",
            "Beställning av extra skärm",
            "Headset till ny kollega",
            "Licens för Adobe Acrobat",
        ),
        (
            "Levererat och installerat.",
            "Beställningen lagd hos leverantören och levererad.",
        ),
    ),
)

NEW_EMPLOYEE_FIELDS = [
    {"name": "name", "label": "Den nya medarbetarens namn", "type": "text", "required": True},
    {"name": "starts_on", "label": "Första arbetsdag", "type": "date", "required": True},
    {"name": "title", "label": "Befattning", "type": "text", "required": True},
    {
        "name": "equipment",
        "label": "Utrustning",
        "type": "choice",
        "required": True,
        "choices": ["Dator", "Dator och mobiltelefon", "Ingen utrustning"],
    },
    {"name": "systems", "label": "System som behövs", "type": "textarea", "required": False},
]
NEW_PHONE_FIELDS = [
    {
        "name": "model",
        "label": "Modell",
        "type": "choice",
        "required": True,
        "choices": ["iPhone SE", "iPhone 13", "Samsung Galaxy A52"],
    },
    {"name": "reason", "label": "Varför behövs telefonen?", "type": "textarea", "required": True},
    {"name": "cost_centre", "label": "Ansvar (kostnadsställe)", "type": "text", "required": True},
]
JOB_TITLES = ["Undersköterska", "Lärare", "Handläggare", "Förskollärare", "Ekonom", "Planarkitekt"]
SYSTEMS = ["Procapita", "Visma", "Ciceron", "Lifecare", "Skolplattformen", ""]


RATING_COMMENTS = {
    5: ["Snabb och trevlig hjälp!", "Tack, nu fungerar allt.", "Mycket bra bemötande."],
    4: ["Bra, men det tog en stund.", "Löst, tack."],
    3: ["Det tog lång tid innan någon hörde av sig."],
    2: ["Fick vänta länge utan besked."],
    1: ["Ingen återkoppling på flera veckor."],
}
