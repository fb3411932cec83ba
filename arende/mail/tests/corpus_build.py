"""How the .eml files in corpus/ were made (run it to rebuild them): realistic shapes of the
mail a municipal service desk gets, written out byte for byte rather than built with the email
package, so that they carry the quirks of the real programs (Outlook's Windows-1252 declared as
ISO-8859-1, Apple Mail's RFC 2231 names, Gmail's quoting). ``{{REFERENCE}}`` and
``{{OUTBOUND_ID}}`` are filled in by the tests."""

import base64
import pathlib
import quopri

out = pathlib.Path(__file__).parent / "corpus"
out.mkdir(parents=True, exist_ok=True)


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i : i + width] for i in range(0, len(s), width))


def qp(text, charset):
    return quopri.encodestring(text.encode(charset)).decode("ascii").replace("\n", "\r\n")


def write(name, text):
    data = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if isinstance(data, str):
        data = data.encode("utf-8")
    (out / name).write_bytes(data)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c70000000049454e44ae426082"
)
XLSX = b"PK\x03\x04" + b"\x14\x00\x00\x00\x08\x00" + b"fake-xlsx-content" * 4

# 1 Outlook, Windows-1252 QP + HTML alternative
plain = "Hej!\n\nSkrivaren på plan 2 i kommunhuset skriver ut “tomma” sidor – både A4 och A3.\nKan ni titta på den idag?\n\nMed vänlig hälsning\nÅsa Öberg\nSocialförvaltningen, Herrljunga kommun\n"
html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><style>p.MsoNormal{margin:0cm}</style></head><body lang="SV"><div class="WordSection1"><p class="MsoNormal">Hej!</p><p class="MsoNormal">Skrivaren på plan 2 i kommunhuset skriver ut “tomma” sidor – både A4 och A3.</p><p class="MsoNormal">Kan ni titta på den idag?</p><p class="MsoNormal">Med vänlig hälsning<br>Åsa Öberg</p></div></body></html>'
write(
    "outlook_cp1252.eml",
    f"""Received: from EX01.herrljunga.example (10.0.0.5) by EX02.herrljunga.example
 (10.0.0.6) with Microsoft SMTP Server id 15.2.1544.4; Tue, 24 Nov 2026 08:12:03 +0100
From: =?iso-8859-1?Q?=C5sa_=D6berg?= <asa.oberg@herrljunga.example>
To: Servicedesk <servicedesk@it.example>
Subject: =?iso-8859-1?Q?Skrivaren_p=E5_plan_2_skriver_ut_tomma_sidor?=
Thread-Topic: =?iso-8859-1?Q?Skrivaren_p=E5_plan_2_skriver_ut_tomma_sidor?=
Thread-Index: AdlD4wz1x2Xh0K9kQ0u2lI8sT8wHkQ==
Date: Tue, 24 Nov 2026 07:12:02 +0000
Message-ID: <DB9PR04MB8411A1B2C3D4E5F6@DB9PR04MB8411.eurprd04.prod.outlook.com>
Accept-Language: sv-SE, en-US
Content-Language: sv-SE
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: multipart/alternative;
\tboundary="_000_DB9PR04MB8411A1B2C3D4E5F6DB9PR04MB8411eurp_"
MIME-Version: 1.0

--_000_DB9PR04MB8411A1B2C3D4E5F6DB9PR04MB8411eurp_
Content-Type: text/plain; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

{qp(plain, "cp1252")}
--_000_DB9PR04MB8411A1B2C3D4E5F6DB9PR04MB8411eurp_
Content-Type: text/html; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

{qp(html, "cp1252")}
--_000_DB9PR04MB8411A1B2C3D4E5F6DB9PR04MB8411eurp_--
""",
)

# 2 Gmail, UTF-8 reply with quoted history (reference in subject)
gplain = "Tack, nu fungerar det igen!\n\nEn sak till: går det att få två skärmar?\n\nDen tis 24 nov. 2026 kl 10:02 skrev IT-servicedesk <servicedesk@it.example>:\n\n> Hej Jonas,\n>\n> vi har återställt ditt lösenord.\n>\n> Med vänliga hälsningar\n> IT-servicedesk\n"
ghtml = '<div dir="ltr">Tack, nu fungerar det igen!<div><br></div><div>En sak till: går det att få två skärmar?</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">Den tis 24 nov. 2026 kl 10:02 skrev IT-servicedesk &lt;<a href="mailto:servicedesk@it.example">servicedesk@it.example</a>&gt;:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Hej Jonas,<br><br>vi har återställt ditt lösenord.</blockquote></div>'
write(
    "gmail_reply_utf8.eml",
    f"""Delivered-To: servicedesk@it.example
MIME-Version: 1.0
References: <{{{{OUTBOUND_ID}}}}>
In-Reply-To: <{{{{OUTBOUND_ID}}}}>
From: Jonas Ek <jonas.ek.privat@gmail.example>
Date: Tue, 24 Nov 2026 10:15:44 +0100
Message-ID: <CAOx8b+gm4Zr8pXjQ1wqS0v=hT3n@mail.gmail.example>
Subject: =?UTF-8?Q?Re=3A_=5B{{{{REFERENCE}}}}=5D_Nytt_svar_i_ditt_=C3=A4rende?=
To: IT-servicedesk <servicedesk@it.example>
Content-Type: multipart/alternative; boundary="000000000000f3a1b205f0c3d2e1"

--000000000000f3a1b205f0c3d2e1
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(gplain, "utf-8")}
--000000000000f3a1b205f0c3d2e1
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(ghtml, "utf-8")}
--000000000000f3a1b205f0c3d2e1--
""",
)

# 3 Apple Mail, attachment with RFC 2231 file name (åäö), base64 text
aplain = "Hej,\n\nbifogar lönespecifikationen som inte går att öppna i Visma.\n\nHälsningar\nBörje\n\nSkickat från min iPad"
write(
    "apple_mail_attachment.eml",
    f"""From: =?utf-8?Q?B=C3=B6rje_Ny_Str=C3=B6m?= <borje.nystrom@vargarda.example>
Content-Type: multipart/mixed;
\tboundary="Apple-Mail=_6A1B2C3D-4E5F-4A1B-9C8D-7E6F5A4B3C2D"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))
Subject: =?utf-8?Q?L=C3=B6nespecifikation_g=C3=A5r_inte_att_=C3=B6ppna?=
Date: Wed, 25 Nov 2026 14:03:11 +0100
Message-Id: <8F7E6D5C-4B3A-2918-A7B6-C5D4E3F2A1B0@vargarda.example>
To: servicedesk@it.example
X-Mailer: Apple Mail (2.3774.600.62)

--Apple-Mail=_6A1B2C3D-4E5F-4A1B-9C8D-7E6F5A4B3C2D
Content-Transfer-Encoding: base64
Content-Type: text/plain;
\tcharset=utf-8

{b64(aplain.encode("utf-8"))}
--Apple-Mail=_6A1B2C3D-4E5F-4A1B-9C8D-7E6F5A4B3C2D
Content-Disposition: attachment;
\tfilename*=utf-8''L%C3%B6nespecifikation%20f%C3%B6r%20%C3%A5r%202026.pdf
Content-Type: application/pdf;
\tx-unix-mode=0644;
\tname*=utf-8''L%C3%B6nespecifikation%20f%C3%B6r%20%C3%A5r%202026.pdf
Content-Transfer-Encoding: base64

{b64(PDF)}
--Apple-Mail=_6A1B2C3D-4E5F-4A1B-9C8D-7E6F5A4B3C2D--
""",
)

# 4 HTML only, ISO-8859-1, base64
h4 = "<html><body><p>Hej!</p><p>Jag kommer inte åt <b>Procapita</b> sedan i morse. Felmeddelandet är &quot;Åtkomst nekad&quot;.</p><p>Se <a href=\"https://intranet.herrljunga.example/driftinfo\">driftinfo</a>.</p><script>alert('x')</script><p>/Märta</p></body></html>"
write(
    "html_only_latin1.eml",
    f"""From: =?ISO-8859-1?Q?M=E4rta_Lind?= <marta.lind@herrljunga.example>
To: servicedesk@it.example
Subject: =?ISO-8859-1?B?S29tbWVyIGludGUg5XQgUHJvY2FwaXRh?=
Date: Wed, 25 Nov 2026 09:30:00 +0100
Message-ID: <20261125093000.4711@webmail.herrljunga.example>
MIME-Version: 1.0
Content-Type: text/html; charset=ISO-8859-1
Content-Transfer-Encoding: base64

{b64(h4.encode("latin-1"))}
""",
)

# 5 Outlook reply with Swedish header block, plus-address
o5 = "Hej igen,\n\nnu skriver den ut men bara i svartvitt.\n\n/Åsa\n\n________________________________\nFrån: IT-servicedesk <servicedesk@it.example>\nSkickat: den 24 november 2026 09:15\nTill: Åsa Öberg <asa.oberg@herrljunga.example>\nÄmne: [{{REFERENCE}}] Vi har tagit emot ditt ärende\n\nHej Åsa,\n\ntack, vi har tagit emot ditt ärende.\n"
write(
    "outlook_reply_plus.eml",
    f"""From: =?iso-8859-1?Q?=C5sa_=D6berg?= <Asa.Oberg@Herrljunga.example>
To: "IT-servicedesk" <servicedesk+{{{{REFERENCE}}}}@it.example>
Subject: SV: Vi har tagit emot ditt =?iso-8859-1?Q?=E4rende?=
Date: Tue, 24 Nov 2026 09:40:12 +0000
Message-ID: <DB9PR04MB8411B2C3D4E5F6A7@DB9PR04MB8411.eurprd04.prod.outlook.com>
Content-Language: sv-SE
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

{qp(o5, "cp1252")}
""",
)

# 6 Inline image, multipart/related
P6 = b64("Så här ser felet ut:\n\n[skärmbild]\n\n/Kalle\n".encode())
h6 = '<html><body><p>Så här ser felet ut:</p><p><img src="cid:image001.png@01DB3E5A.12345670" alt="skärmbild"></p><p>/Kalle</p></body></html>'
write(
    "inline_image.eml",
    f"""From: Kalle Svensson <kalle.svensson@vargarda.example>
To: servicedesk@it.example
Subject: Felmeddelande i Outlook
Date: Thu, 26 Nov 2026 11:00:00 +0100
Message-ID: <AM0PR10MB1234C1D2E3F4@AM0PR10MB1234.eurprd10.prod.outlook.com>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="_004_rel_"; type="multipart/alternative"

--_004_rel_
Content-Type: multipart/alternative; boundary="_000_alt_"

--_000_alt_
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{P6}
--_000_alt_
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(h6.encode())}
--_000_alt_--

--_004_rel_
Content-Type: image/png; name="image001.png"
Content-Description: image001.png
Content-Disposition: inline; filename="image001.png"; size=69
Content-ID: <image001.png@01DB3E5A.12345670>
Content-Transfer-Encoding: base64

{b64(PNG)}
--_004_rel_--
""",
)

# 7 Exchange auto-reply
write(
    "auto_reply_exchange.eml",
    """From: Lena Berg <lena.berg@herrljunga.example>
To: IT-servicedesk <servicedesk@it.example>
Subject: =?utf-8?Q?Automatiskt_svar:_[2026-000001]_Vi_har_tagit_emot_ditt_=C3=A4rende?=
Date: Tue, 24 Nov 2026 08:00:00 +0000
Message-ID: <autoreply-1@herrljunga.example>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: lena.berg@herrljunga.example
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 8bit
MIME-Version: 1.0

Jag är på semester till och med 2026-12-01. Vid brådskande ärenden, ring växeln.
""",
)

# 8 X-Autoreply
write(
    "auto_reply_x_autoreply.eml",
    """From: kommunen@vargarda.example
To: servicedesk@it.example
Subject: Autosvar: Ditt meddelande
Date: Tue, 24 Nov 2026 08:01:00 +0000
Message-ID: <autoreply-2@vargarda.example>
X-Autoreply: yes
Content-Type: text/plain; charset=us-ascii
MIME-Version: 1.0

Tack for ditt meddelande. Vi svarar inom tva arbetsdagar.
""",
)

# 9 Bounce
write(
    "bounce.eml",
    """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.it.example>
To: servicedesk@it.example
Subject: Undelivered Mail Returned to Sender
Date: Tue, 24 Nov 2026 08:02:00 +0100
Message-ID: <20261124070200.ABC123@mx.it.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="ABC123.1732431720/mx.it.example"

--ABC123.1732431720/mx.it.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.it.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<finns.inte@herrljunga.example>: host mx.herrljunga.example said: 550 5.1.1 User unknown

--ABC123.1732431720/mx.it.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.it.example
Arrival-Date: Tue, 24 Nov 2026 08:01:59 +0100

Final-Recipient: rfc822; finns.inte@herrljunga.example
Action: failed
Status: 5.1.1

--ABC123.1732431720/mx.it.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: servicedesk@it.example
To: finns.inte@herrljunga.example
Subject: [2026-000001] Vi har tagit emot ditt arende

--ABC123.1732431720/mx.it.example--
""",
)

# 10 Bulk newsletter
write(
    "bulk_newsletter.eml",
    """From: Nyhetsbrev <nyheter@leverantor.example>
To: servicedesk@it.example
Subject: =?utf-8?Q?M=C3=A5nadens_nyheter?=
Date: Tue, 24 Nov 2026 06:00:00 +0000
Message-ID: <news-2026-11@leverantor.example>
Precedence: bulk
List-Unsubscribe: <https://leverantor.example/unsub>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
MIME-Version: 1.0

Här är månadens nyheter.
""",
)

# 11 Malformed: no usable sender, broken structure
write(
    "malformed_no_sender.eml",
    """To: servicedesk@it.example
Subject: =?utf-8?B?broken
Message-ID: <malformed-1@nowhere>
Content-Type: multipart/mixed; boundary="never-closed"
MIME-Version: 1.0

--never-closed
Content-Type: text/plain; charset=utf-8

Detta meddelande saknar avsändare och dess MIME-struktur tar aldrig slut
""",
)

Q12 = qp("Jag försöker installera programmet men får ett fel.\n", "utf-8")
EXE = b64(b"MZ" + b"\x00" * 64)
# 12 Unknown charset + disallowed attachment (.exe) + ISO-8859-1 QP subject
write(
    "odd_charset_exe.eml",
    f"""From: "Nils P." <nils.p@herrljunga.example>
To: servicedesk@it.example
Subject: =?ISO-8859-1?Q?Program_som_inte_g=E5r_att_installera?=
Date: Thu, 26 Nov 2026 12:00:00 +0100
Message-ID: <odd-charset-1@herrljunga.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset="x-unknown-8bit"
Content-Transfer-Encoding: quoted-printable

{Q12}
--b1
Content-Type: application/octet-stream; name="setup.exe"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

{EXE}
--b1
Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
Content-Disposition: attachment;
 filename*0*=iso-8859-1''Budget%20f%F6r%20;
 filename*1*=%E5r%20%E4ndrad.xlsx
Content-Transfer-Encoding: base64

{b64(XLSX)}
--b1--
""",
)
print(sorted(p.name for p in out.iterdir()))
