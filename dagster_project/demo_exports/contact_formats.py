"""Phone numbers and email addresses as people and systems write them."""

from __future__ import annotations

import functools
import re

import numpy as np

from dagster_project.demo_exports.name_noise import strip_accents

_US_AREA_CODES = np.array([201, 202, 206, 212, 213, 214, 215, 303, 305, 312, 313, 404, 408, 415, 503,
                           512, 602, 617, 646, 702, 713, 718, 773, 786, 818, 917, 925, 949, 972])
_CA_AREA_CODES = np.array([403, 416, 437, 514, 604, 613, 647, 778, 780, 905])
_COUNTRY_CODES = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33"}
_FREE_DOMAINS = {
    "US": ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
           "aol.com", "comcast.net"),
    "CA": ("gmail.com", "gmail.com", "hotmail.com", "yahoo.ca", "outlook.com", "rogers.com", "icloud.com"),
    "GB": ("gmail.com", "gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "outlook.com"),
    "DE": ("gmx.de", "web.de", "gmail.com", "t-online.de", "outlook.de"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net", "yahoo.fr"),
}
_VALID_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")


def draw_national_numbers(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """National significant numbers (digits only) that libphonenumber accepts as valid."""
    n = len(country)
    digits = rng.integers(0, 10**8, size=n)
    kind = rng.random(n)
    us_area = rng.choice(_US_AREA_CODES, size=n)
    ca_area = rng.choice(_CA_AREA_CODES, size=n)
    exchange = rng.integers(200, 1000, size=n)
    result = np.empty(n, dtype=object)
    for i in range(n):
        line = int(digits[i])
        if country[i] in ("US", "CA"):
            area = us_area[i] if country[i] == "US" else ca_area[i]
            result[i] = f"{area}{exchange[i]}{line % 10000:04d}"
        elif country[i] == "GB":
            mobile = f"77{1 + line % 7}{line // 7 % 10**7:07d}"
            result[i] = mobile if kind[i] < 0.7 else f"20{7 + line % 2}{line // 2 % 10**7:07d}"
        elif country[i] == "DE":
            result[i] = f"151{line:08d}" if kind[i] < 0.7 else f"30{line:08d}"
        else:
            # 069x and 063x mobiles belong to overseas departments, not to metropolitan France.
            mobile = f"6{'01245678'[line % 8]}{line // 8 % 10**7:07d}"
            result[i] = mobile if kind[i] < 0.7 else f"1{line:08d}"
    return result


def phone_variants(national: str, country: str) -> tuple[str, str, str, str]:
    """Four ways the same number is written: local styles and international ones."""
    code = _COUNTRY_CODES[country]
    if country in ("US", "CA"):
        area, exchange, line = national[:3], national[3:6], national[6:]
        return (f"({area}) {exchange}-{line}", f"+1 {area} {exchange} {line}", f"{area}.{exchange}.{line}",
                national)
    if country == "GB":
        head, tail = (national[:4], national[4:]) if national[0] == "7" else (national[:2], national[2:])
        spaced = f"{head} {tail}" if national[0] == "7" else f"{head} {tail[:4]} {tail[4:]}"
        return f"+44 {spaced}", f"0{spaced}", f"+44{national}", f"0{national}"
    if country == "DE":
        head, tail = (national[:3], national[3:]) if national[0] == "1" else (national[:2], national[2:])
        return f"+49 {head} {tail}", f"0{head} {tail}", f"+49{national}", f"0{head}/{tail}"
    pairs = " ".join(national[i : i + 2] for i in range(1, 9, 2))
    dotted = pairs.replace(" ", ".")
    return f"+{code} {national[0]} {pairs}", f"0{national[0]} {pairs}", f"+{code}{national}", f"0{national[0]}.{dotted}"


def e164(national: np.ndarray, country: np.ndarray) -> np.ndarray:
    """E.164 form of each number, as kept in the ground truth."""
    return np.array([f"+{_COUNTRY_CODES[c]}{d}" for d, c in zip(national, country)], dtype=object)


@functools.lru_cache(maxsize=65_536)
def _ascii_word(text: str) -> str:
    return "".join(char for char in strip_accents(text).lower() if char.isalnum())


def email_local_part(first: str, last: str, style: int, number: int) -> str:
    """One of the usual patterns people choose for a personal mailbox."""
    given, family = _ascii_word(first) or "x", _ascii_word(last) or "x"
    patterns = (f"{given}.{family}", f"{given}{family}{number % 100}", f"{given[0]}{family}",
                f"{given}_{family}{number % 90 + 10}", f"{family}.{given}", f"{given}{number % 1000}",
                f"{given}.{family}{number % 10}")
    return patterns[style % len(patterns)]


def draw_emails(first: np.ndarray, last: np.ndarray, country: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """A personal address per person, built from the name and a free-mail domain of the country."""
    n = len(first)
    style = rng.integers(0, 7, size=n)
    number = rng.integers(0, 10_000, size=n)
    domain_pick = rng.integers(0, 1 << 30, size=n)
    return np.array([
        f"{email_local_part(first[i], last[i], style[i], number[i])}@"
        f"{_FREE_DOMAINS[country[i]][domain_pick[i] % len(_FREE_DOMAINS[country[i]])]}"
        for i in range(n)
    ], dtype=object)


def make_unique(emails: np.ndarray, taken: dict[str, int] | None = None) -> np.ndarray:
    """Add a number to addresses already taken, the way a mail provider forces people to."""
    taken = {} if taken is None else taken
    result = emails.copy()
    for i, email in enumerate(emails):
        candidate, suffix = email, 1
        while candidate in taken:
            local, domain = email.split("@", 1)
            candidate = f"{local}{suffix}@{domain}"
            suffix += 1
        taken[candidate] = i
        result[i] = candidate
    return result


def is_valid_email(email: str) -> bool:
    """Whether a mail server would accept the address syntactically."""
    return bool(_VALID_EMAIL.match(email.strip()))


# distort_email kinds below this only change case or padding; the others make the address invalid.
FIRST_INVALID_KIND = 4


def distort_email(email: str, kind: int) -> str:
    """Upper-cased, mixed-case, padded or syntactically invalid forms of an address."""
    local, _, domain = email.partition("@")
    variants = (
        email.upper(),
        f"{local.capitalize()}@{domain.capitalize()}",
        f" {email} ",
        f"{email}  ",
        f"{local}@{domain.rsplit('.', 1)[0]}",
        f"{local}.{domain}",
        f"{local} @{domain}",
        f"{local}@@{domain}",
    )
    return variants[kind % len(variants)]
