"""Write evidencekit/data/qualified-tsa.json from the EU list of trusted lists (LOTL).

The LOTL points to each EU/EEA state's trusted list; each trusted list names its trust service
providers' services, with a type, a status since a date, and the certificates that identify the
service. This keeps every service of type QTST (qualified electronic time stamps) with its
current status, in the format ``docs/timestamps.md`` describes; evidencekit itself counts only
those whose status is *granted*. Usage (on a machine that can reach the lists)::

    python tools/refresh_qualified_tsa.py -o evidencekit/data/qualified-tsa.json

It does not check the XML signatures of the lists: review the change (``git diff``) and compare
a few fingerprints with the EU Trusted List browser before shipping it.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes

LOTL = "https://ec.europa.eu/tools/lotl/eu-lotl.xml"
NS = {"tsl": "http://uri.etsi.org/02231/v2#", "add": "http://uri.etsi.org/02231/v2/additionaltypes#"}
XML_TSL = "application/vnd.etsi.tsl+xml"
QTST = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
MAX_LIST = 64 << 20


def pointers(lotl: bytes) -> list[tuple[str, str]]:
    """(territory, address) of every machine-readable (XML) trusted list the LOTL points to."""
    found = []
    for pointer in ET.fromstring(lotl).iterfind(".//tsl:PointersToOtherTSL/tsl:OtherTSLPointer", NS):
        location = pointer.findtext("tsl:TSLLocation", "", NS).strip()
        mime = pointer.findtext(".//add:MimeType", "", NS).strip()
        territory = pointer.findtext(".//tsl:SchemeTerritory", "", NS).strip()
        if location and mime == XML_TSL:
            found.append((territory, location))
    return found


def services(trusted_list: bytes) -> list[dict[str, str]]:
    """Every QTST service of one trusted list, one entry per certificate that identifies it."""
    root = ET.fromstring(trusted_list)
    territory = root.findtext("tsl:SchemeInformation/tsl:SchemeTerritory", "", NS).strip()
    issued = root.findtext("tsl:SchemeInformation/tsl:ListIssueDateTime", "", NS).strip()
    found = []
    for info in root.iterfind(".//tsl:TSPService/tsl:ServiceInformation", NS):
        if info.findtext("tsl:ServiceTypeIdentifier", "", NS).strip() != QTST:
            continue
        name = info.findtext("tsl:ServiceName/tsl:Name", "", NS).strip()
        for encoded in info.iterfind("tsl:ServiceDigitalIdentity/tsl:DigitalId/tsl:X509Certificate", NS):
            der = base64.b64decode("".join((encoded.text or "").split()))
            cert = x509.load_der_x509_certificate(der)
            found.append({
                "sha256": cert.fingerprint(hashes.SHA256()).hex(),
                "subject": cert.subject.rfc4514_string(),
                "service_name": name,
                "service_type": QTST,
                "status": info.findtext("tsl:ServiceStatus", "", NS).strip(),
                "status_since": _utc(info.findtext("tsl:StatusStartingTime", "", NS).strip()),
                "territory": territory,
                "list_issued": _utc(issued),
                "certificate": base64.b64encode(der).decode("ascii"),
            })
    return found


def trust_list(lotl_url: str, fetch=None) -> dict[str, object]:
    """The whole file: every QTST service of every trusted list the LOTL points to."""
    fetch = fetch or _fetch
    entries: list[dict[str, str]] = []
    for territory, location in pointers(fetch(lotl_url)):
        try:
            entries += services(fetch(location))
        except (OSError, ET.ParseError, ValueError) as exc:
            print(f"skipped the trusted list of {territory} ({location}): {exc}", file=sys.stderr)
    entries.sort(key=lambda e: (e["territory"], e["service_name"], e["sha256"]))
    return {"format": "evidencekit-qualified-tsa", "version": 1, "source": lotl_url,
            "fetched": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "services": entries}


def _utc(moment: str) -> str:
    """A list's xsd:dateTime as RFC 3339 UTC (``2016-06-30T22:00:00Z``), the form compared with tokens."""
    if not moment:
        return ""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if parsed.tzinfo else parsed.strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (the lists' own https addresses)
        return answer.read(MAX_LIST)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--lotl", default=LOTL, help="the list of trusted lists (default: the EU's)")
    args = parser.parse_args()
    data = trust_list(args.lotl)
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
    granted = sum(1 for e in data["services"] if e["status"].endswith("/granted"))  # type: ignore[union-attr]
    print(f"{len(data['services'])} QTST certificates ({granted} granted) written to {args.output}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
