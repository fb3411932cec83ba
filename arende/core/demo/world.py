"""The world of the seed document: two municipalities, a joint IT unit and their people.

Names of people are invented; organisations, departments and the shape of the IT unit
(ten staff, two in reception and switchboard, part-time rates of 60, 80 and 90 %, one AME,
one AVA and one LIA intern) follow the board documents of autumn 2021.
"""

from __future__ import annotations

import datetime

HERRLJUNGA = ("Herrljunga kommun", "Herrljunga", "municipality", "212000-1520")
VARGARDA = ("Vårgårda kommun", "Vårgårda", "municipality", "212000-1454")
JOINT_BOARD = (
    "Gemensam servicenämnd för IT, växel och telefoni",
    "IT-nämnden",
    "joint_board",
    "",
)

# Organisation short name -> [(department, code, [sub-departments])]
DEPARTMENTS: dict[str, list[tuple[str, str, list[str]]]] = {
    "Herrljunga": [
        ("Kommunstyrelsen", "KS", ["Kommunledningskontoret", "Kansli"]),
        ("Bildning", "BIN", ["Förskola", "Grundskola", "Gymnasium och vuxenutbildning"]),
        ("Omsorg", "OMS", ["Äldreomsorg", "Individ- och familjeomsorg", "Funktionsstöd"]),
        ("Samhällsbyggnad", "SBF", ["Bygg och miljö", "Teknik", "Kultur och fritid"]),
    ],
    "Vårgårda": [
        (
            "Kommunstyrelsen",
            "KS",
            ["Strategisk planering och utveckling", "Ekonomiavdelningen", "Personalavdelningen"],
        ),
        ("Utbildning", "UTB", ["Förskola", "Grundskola"]),
        ("Vård och omsorg", "VOO", ["Äldreomsorg", "Socialtjänst"]),
        ("Samhällsbyggnad", "SHB", ["Bygg och miljö", "Gata och park"]),
        ("Vuxenutbildning, integration och arbetsmarknad", "VIA", []),
    ],
    "IT-nämnden": [
        (
            "IT, växel och telefoni",
            "IT",
            ["Servicedesk", "Drift och nätverk", "System och integration", "Reception och växel"],
        ),
    ],
}

# (first, last, title, sub-department, roles, employment form, rate, ends_on)
IT_STAFF = [
    (
        "Sara",
        "Lindqvist",
        "IT- och digitaliseringschef",
        "IT, växel och telefoni",
        ["manager"],
        "permanent",
        100,
        None,
    ),
    (
        "Anna",
        "Sjöberg",
        "Servicedeskansvarig",
        "Servicedesk",
        ["agent", "incident_manager"],
        "permanent",
        100,
        None,
    ),
    ("Erik", "Nyström", "Servicedesktekniker", "Servicedesk", ["agent"], "permanent", 100, None),
    ("Lina", "Forsberg", "Servicedesktekniker", "Servicedesk", ["agent"], "permanent", 80, None),
    (
        "Peter",
        "Dahl",
        "Nätverkstekniker",
        "Drift och nätverk",
        ["specialist", "change_manager"],
        "permanent",
        100,
        None,
    ),
    (
        "Maria",
        "Wik",
        "Systemtekniker",
        "System och integration",
        ["specialist"],
        "permanent",
        90,
        None,
    ),
    (
        "Johan",
        "Berg",
        "Drifttekniker",
        "Drift och nätverk",
        ["specialist", "architect"],
        "fixed_term",
        100,
        datetime.date(2021, 12, 31),
    ),
    (
        "Karin",
        "Holm",
        "Systemadministratör",
        "System och integration",
        ["specialist", "admin"],
        "labour_market",
        100,
        datetime.date(2021, 12, 31),
    ),
    (
        "Eva",
        "Lund",
        "Receptionist och växeltelefonist",
        "Reception och växel",
        ["switchboard"],
        "permanent",
        60,
        None,
    ),
    (
        "Hanna",
        "Ström",
        "Växeltelefonist",
        "Reception och växel",
        ["switchboard"],
        "permanent",
        100,
        None,
    ),
]
INTERN = (
    "Oskar",
    "Ali",
    "LIA-praktikant",
    "Servicedesk",
    ["agent"],
    "intern",
    100,
    datetime.date(2021, 12, 17),
)

# The IT controller sits in the joint economy department (hosted by Vårgårda).
CONTROLLER = ("Jonas", "Ek", "IT-controller", "Vårgårda", "Ekonomiavdelningen")

BOARD_MEMBERS = [
    ("Ingrid", "Alm", "Ordförande, servicenämnden", "Herrljunga"),
    ("Lars", "Björk", "Vice ordförande, servicenämnden", "Vårgårda"),
]
AUDITOR = ("Gunnel", "Rask", "Förtroendevald revisor", "Herrljunga")

FIRST_NAMES = [
    "Astrid",
    "Bengt",
    "Cecilia",
    "David",
    "Elin",
    "Fredrik",
    "Greta",
    "Hassan",
    "Ida",
    "Jakob",
    "Klara",
    "Leo",
    "Maja",
    "Nils",
    "Olivia",
    "Per",
    "Rut",
    "Sofia",
    "Tove",
    "Ulf",
    "Vera",
    "Yusuf",
    "Åsa",
    "Örjan",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Lindberg",
    "Axelsson",
    "Bergström",
    "Lundgren",
    "Mattsson",
    "Hedlund",
    "Sandberg",
    "Öberg",
]

REQUESTERS_PER_DEPARTMENT = 3

SUPPORT_GROUPS = [
    (
        "Servicedesk",
        1,
        "servicedesk@it.herrljunga.example",
        "Första linjen: tar emot, löser det den kan och eskalerar resten.",
        ["Anna", "Erik", "Lina", "Oskar"],
    ),
    (
        "Drift och nätverk",
        2,
        "drift@it.herrljunga.example",
        "Andra linjen: servrar, lagring, nätverk, brandvägg.",
        ["Peter", "Johan"],
    ),
    (
        "System och integration",
        2,
        "system@it.herrljunga.example",
        "Andra linjen: verksamhetssystem, integrationer, behörigheter.",
        ["Maria", "Karin"],
    ),
    (
        "Telefoni och växel",
        2,
        "vaxel@it.herrljunga.example",
        "Andra linjen: telefonväxel, mobiltelefoni, omstyrning.",
        ["Eva", "Hanna", "Peter"],
    ),
]


def email_for(first: str, last: str, domain: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "Å": "a", "Ä": "a", "Ö": "o"})
    return f"{first}.{last}".lower().translate(table) + f"@{domain}"
