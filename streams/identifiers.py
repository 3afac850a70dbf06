"""Identifiers of persons (INSZ / rijksregisternummer, BIS-nummer) and bank accounts (IBAN).

Validation uses python-stdnum (``stdnum.be.ssn`` covers national-register and BIS numbers with their mod-97
check; ``stdnum.iban`` the IBAN check). Logs, metrics and DLQ reasons never show an INSZ or IBAN in clear:
use :func:`mask` (``85******345``) or :func:`pseudonym` (a keyed hash, stable across runs).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import traceback
from functools import lru_cache

from stdnum import iban as stdnum_iban
from stdnum.be import ssn as stdnum_ssn
from stdnum.exceptions import ValidationError

_DIGITS11 = re.compile(r"^\d{11}$")
_HOUSEHOLD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
# Anything that looks like an INSZ (11 digits) or an IBAN (country, check digits, 11-30 alphanumerics) standing
# on its own, i.e. not inside a longer run of letters and digits (UUIDs, hashes, pseudonyms).
_PERSONAL = re.compile(r"(?<![0-9A-Za-z])(?:\d{11}|[A-Z]{2}\d{2}[A-Z0-9]{11,30})(?![0-9A-Za-z])")
_PSEUDONYM_KEY = os.environ.get("GROEIPAKKET_PSEUDONYM_KEY", "groeipakket-log-pseudonym").encode()


@lru_cache(maxsize=1 << 18)
def is_valid_insz(value: str) -> bool:
    """An INSZ is 11 digits with a valid mod-97 check (national register or BIS number) and a possible birth
    date. Cached: the same persons recur in record after record, and the full check costs ~50 µs."""
    if not isinstance(value, str) or not _DIGITS11.match(value):
        return False
    try:
        stdnum_ssn.validate(value)
    except ValidationError:
        return False
    return True


def is_valid_household_id(value: str) -> bool:
    return isinstance(value, str) and bool(_HOUSEHOLD.match(value))


@lru_cache(maxsize=1 << 16)
def normalize_iban(value: str) -> str:
    """Compact upper-case IBAN; raises ValueError when its check fails. Cached: a household's accounts are
    checked again every time its facts are read back (the full check costs ~250 µs)."""
    try:  # mod-97 and the country's BBAN structure; not the bank-code registry (it rejects valid accounts)
        return stdnum_iban.validate(value, check_country=False)
    except ValidationError as exc:
        raise ValueError("invalid IBAN (check digits or format)") from exc


def compact_iban(value: str) -> str:
    """An IBAN in the form :func:`normalize_iban` returns (no spaces or separators, upper case), unchecked: for
    an IBAN checked before."""
    return stdnum_iban.compact(value)


def birth_date_from_insz(insz: str) -> dt.date | None:
    """The birth date encoded in an INSZ, when it encodes a full one (None for unknown day/month)."""
    try:
        return stdnum_ssn.get_birth_date(insz)
    except (ValidationError, ValueError):
        return None


def mask(value: str | None) -> str:
    """Show only enough of an INSZ/IBAN to tell two apart in a log line: ``85*******45``."""
    if not value:
        return "-"
    value = str(value)
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def redact_text(text: str) -> str:
    """The text with every INSZ- or IBAN-looking token masked (valid or not: a mistyped INSZ is still one)."""
    return _PERSONAL.sub(lambda match: mask(match.group(0)), text)


def redact(value):
    """A JSON-like tree (dicts, lists, strings, numbers) with every INSZ/IBAN in its strings and keys masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact(key): redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def install_log_redaction() -> None:
    """Mask INSZ/IBAN in every log record of this process, message and traceback alike (defence in depth: the
    engine never logs them on purpose, but an exception raised deep in a library may quote a value)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacting", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it to the handler's error path
            return record
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return record

    factory.redacting = True
    logging.setLogRecordFactory(factory)


def pseudonym(value: str | None) -> str:
    """A keyed, stable hash of a personal identifier for logs and traces shown outside the audit trail."""
    if not value:
        return "-"
    return "p-" + hashlib.blake2b(str(value).encode(), key=_PSEUDONYM_KEY, digest_size=6).hexdigest()


def insz_check_digits(first_nine: str, born_2000_or_later: bool) -> str:
    """The two mod-97 check digits for the first nine digits of an INSZ (used by the simulator and tests)."""
    number = int(("2" if born_2000_or_later else "") + first_nine)
    return f"{97 - number % 97:02d}"


def make_insz(birth: dt.date, serial: int) -> str:
    """A valid INSZ for a birth date and a serial 1..998 (the register's day counter)."""
    if not 1 <= serial <= 998:
        raise ValueError("serial must be 1..998")
    first = f"{birth.year % 100:02d}{birth.month:02d}{birth.day:02d}{serial:03d}"
    return first + insz_check_digits(first, birth.year >= 2000)


def make_iban_be(account: int) -> str:
    """A valid Belgian IBAN for a 10-digit account base (bank code + account number, national check added)."""
    base = f"{account % 10**10:010d}"
    national_check = int(base) % 97 or 97
    bban = f"{base}{national_check:02d}"
    numeric = int(bban + "111400")  # "BE" -> 11 14, then "00"
    return f"BE{98 - numeric % 97:02d}{bban}"
