#!/usr/bin/env python3
"""Generates the table of next fire times of tests/unit/test_cron.c.

An independent model of the rules of shared/include/tripdesk/cron.h, written from the
header's text (not from cron.c): its own parser of the five fields, and a brute-force
walk over real minutes (UTC instants, one minute apart) converted to local time with
Python's zoneinfo. At each instant t the walk fires when
  - the local wall time matches the fields and it is its first occurrence (fold 0), or
    its second (fold 1) when the minute or the hour field begins with '*';
  - or the clock jumped forward just before t (spring forward), the hour field does
    not begin with '*', and a skipped wall time matched: the first instant after the gap.
Days whose local date does not match are skipped (the walk jumps to two hours before the
next local midnight: no gap of the zones used crosses midnight).

Prints the C rows (ISO 8601 with the local offset, which test_cron.c converts to Unix
seconds) to stdout; with --check, also the "none within 5 years" cases.
    python3 tests/unit/gen_cron_table.py > /tmp/rows.c
With --compare N it instead compiles shared/src/cron.c into a temporary shared object
and compares its td_cron_next with this model on N random expressions and start times
(many of them around the 2026 transitions of the zones used), printing any difference.
    python3 tests/unit/gen_cron_table.py --compare 300
"""
import ctypes
import os
import random
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAYS = "SUN MON TUE WED THU FRI SAT".split()
MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
          "@annually": "0 0 1 1 *"}
# (low, high, high for '*' and n/s, names, value of the first name)
FIELDS = [(0, 59, 59, None, 0), (0, 23, 23, None, 0), (1, 31, 31, None, 0),
          (1, 12, 12, MONTHS, 1), (0, 7, 6, DAYS, 0)]
SEARCH_DAYS = 5 * 366 + 1


def value(text, f):
    lo, hi, _, names, base = FIELDS[f]
    if names and text.upper() in names:
        return names.index(text.upper()) + base
    v = int(text)
    assert lo <= v <= hi, text
    return v


def parse_field(text, f):
    lo, hi, star_hi, _, _ = FIELDS[f]
    out = set()
    for item in text.split(","):
        step, stepped = 1, "/" in item
        if stepped:
            item, s = item.split("/")
            step = int(s)
        if item in ("*", "?"):
            a, b = lo, star_hi
        elif "-" in item:
            a, b = (value(x, f) for x in item.split("-"))
        else:
            a = value(item, f)
            b = max(a, star_hi) if stepped else a
        out.update(range(a, b + 1, step))
    if f == 4 and 7 in out:
        out.discard(7)
        out.add(0)
    return out


class Cron:
    def __init__(self, expr):
        expr = MACROS.get(expr.strip(), expr)
        parts = expr.split()
        assert len(parts) == 5
        self.sets = [parse_field(p, i) for i, p in enumerate(parts)]
        self.dom_any = parts[2] in ("*", "?")
        self.dow_any = parts[4] in ("*", "?")
        self.both_passes = parts[0].startswith("*") or parts[1].startswith("*")
        self.gap_fires = not parts[1].startswith("*")

    def date_matches(self, d):
        if d.month not in self.sets[3]:
            return False
        dom = d.day in self.sets[2]
        dow = (d.weekday() + 1) % 7 in self.sets[4]
        if self.dom_any and self.dow_any:
            return True
        if self.dom_any:
            return dow
        if self.dow_any:
            return dom
        return dom or dow

    def wall_matches(self, w):
        return (self.date_matches(w.date()) and w.hour in self.sets[1]
                and w.minute in self.sets[0])


def local(t, tz):
    return datetime.fromtimestamp(t, tz)


def naive(dt):
    return dt.replace(tzinfo=None, fold=0)


def next_fire(cron, after, tz):
    """The first fire time > after (Unix seconds), walking real minutes; None if there
    is none within SEARCH_DAYS days."""
    t = (after // 60 + 1) * 60
    end = after + SEARCH_DAYS * 86400
    while t <= end:
        lt = local(t, tz)
        if not cron.date_matches(lt.date()):
            nxt = datetime.combine(lt.date() + timedelta(days=1), datetime.min.time(), tz)
            t = max(t + 60, (int(nxt.timestamp()) - 7200) // 60 * 60)
            continue
        w = naive(lt)
        if cron.wall_matches(w) and (lt.fold == 0 or cron.both_passes):
            return t
        prev = naive(local(t - 60, tz))
        if cron.gap_fires and w - prev > timedelta(minutes=1):
            s = prev + timedelta(minutes=1)
            while s < w:
                if cron.wall_matches(s):
                    return t
                s += timedelta(minutes=1)
        t += 60
    return None


def iso(t, tz):
    return local(t, tz).isoformat()


def instant(text, tz):
    """Unix seconds of a local time "YYYY-MM-DDTHH:MM[:SS]" (first occurrence) or of an
    ISO text with an offset."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return int(dt.timestamp())


# (zone, expression, start: local time or ISO with offset). 4 fire times each.
CASES = [
    # Basics in UTC: every minute, steps, ranges, lists, n/m.
    ("UTC", "* * * * *", "2026-01-01T00:00:30"),
    ("UTC", "*/15 * * * *", "2026-01-01T00:07"),
    ("UTC", "0 */6 * * *", "2026-01-01T05:00"),
    ("UTC", "5,10,50 8-9 * * *", "2026-01-01T08:30"),
    ("UTC", "10-30/10 14 * * *", "2026-01-01T14:10"),
    ("UTC", "30/10 * * * *", "2026-01-01T00:00"),
    ("UTC", "0 22/1 * * *", "2026-01-01T21:30"),
    ("UTC", "0,30 9-17/4 * * 1-5", "2026-01-02T12:00"),
    ("UTC", "*/20 9-10 * * 1-5", "2026-01-02T10:45"),
    # Names, any case, in lists, ranges and with steps.
    ("UTC", "0 9 * * MON-FRI", "2026-01-09T10:00"),
    ("UTC", "0 9 * * sat,SUN", "2026-01-07T00:00"),
    ("UTC", "0 0 1 JAN,jul *", "2026-03-15T00:00"),
    ("UTC", "0 6 * FEB-apr/2 Mon", "2026-01-01T00:00"),
    ("UTC", "15 10 * * 7", "2026-01-01T00:00"),
    ("UTC", "0 0 * * 5-7", "2026-01-01T12:00"),
    ("UTC", "0 0 * * 1/2", "2026-01-01T00:00"),
    ("UTC", "0 8 * */5 *", "2026-01-31T09:00"),
    # Macros.
    ("UTC", "@hourly", "2026-01-01T00:59:59"),
    ("UTC", "@daily", "2026-01-30T00:00"),
    ("UTC", "@midnight", "2026-02-27T12:00"),
    ("UTC", "@weekly", "2026-01-01T00:00"),
    ("UTC", "@monthly", "2026-01-15T00:00"),
    ("UTC", "@yearly", "2026-06-01T00:00"),
    ("UTC", "@annually", "2026-01-01T00:00"),
    # Day of month and day of week: OR when both are restricted, else the other.
    ("UTC", "0 0 13 * 5", "2026-01-01T00:00"),
    ("UTC", "0 0 13 * *", "2026-01-01T00:00"),
    ("UTC", "0 0 * * 5", "2026-01-01T00:00"),
    ("UTC", "0 0 13 * ?", "2026-01-01T00:00"),
    ("UTC", "0 0 1,15 * MON", "2026-06-01T00:00"),
    ("UTC", "0 0 29 2 1", "2027-01-01T00:00"),
    # Feb 29, month ends, year wrap.
    ("UTC", "0 12 29 2 *", "2026-03-01T00:00"),
    ("UTC", "0 0 29 2 *", "2024-03-01T00:00"),
    ("UTC", "0 12 * 2 *", "2028-02-27T13:00"),
    ("UTC", "0 0 31 * *", "2026-01-31T00:00"),
    ("UTC", "59 23 30,31 * *", "2026-01-30T23:59"),
    ("UTC", "0 0 28-31 2 *", "2027-02-27T00:00"),
    ("UTC", "0 0 1 1 *", "2026-12-31T23:59:30"),
    ("UTC", "30 23 31 12 *", "2026-12-31T23:30"),
    ("UTC", "*/30 * 31 12 *", "2026-12-31T23:00"),
    # Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
    ("Europe/London", "30 1 * * *", "2026-03-28T12:00"),
    ("Europe/London", "0,30 1 * * *", "2026-03-28T12:00"),
    ("Europe/London", "*/15 1 * * *", "2026-03-28T12:00"),
    ("Europe/London", "*/15 * * * *", "2026-03-29T00:40"),
    ("Europe/London", "30 * * * *", "2026-03-29T00:10"),
    ("Europe/London", "* * * * *", "2026-03-29T00:58"),
    ("Europe/London", "0 1-2 * * *", "2026-03-28T12:00"),
    ("Europe/London", "30 1 * * *", "2026-10-24T12:00"),
    ("Europe/London", "30 1 * * *", "2026-10-25T01:40+00:00"),
    ("Europe/London", "30 1 * * *", "2026-10-25T01:20+00:00"),
    ("Europe/London", "45 1 * * *", "2026-10-25T01:50+01:00"),
    ("Europe/London", "*/20 * * * *", "2026-10-25T00:50+01:00"),
    ("Europe/London", "*/30 1 * * *", "2026-10-25T00:00+01:00"),
    ("Europe/London", "0 * * * *", "2026-10-25T00:30+01:00"),
    ("Europe/London", "*/10 * * * *", "2026-10-25T01:55+01:00"),
    ("Europe/London", "* 1 * * *", "2026-10-25T01:59:30+01:00"),
    ("Europe/London", "0 0 31 * *", "2026-03-01T00:00"),
    # America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    ("America/New_York", "30 2 * * *", "2026-03-07T12:00"),
    ("America/New_York", "0 2 * * *", "2026-03-07T12:00"),
    ("America/New_York", "30 2 * * 0", "2026-03-01T12:00"),
    ("America/New_York", "*/30 * * * *", "2026-03-08T01:15"),
    ("America/New_York", "0 1 * * *", "2026-10-31T12:00"),
    ("America/New_York", "*/30 1 * * *", "2026-11-01T00:00"),
    ("America/New_York", "15 1 1 11 *", "2026-11-01T01:20-05:00"),
    ("America/New_York", "15 1 * * *", "2026-11-01T01:05-05:00"),
    ("America/New_York", "@daily", "2026-11-01T00:00"),
    ("America/New_York", "0 12 29 2 *", "2026-01-01T00:00"),
    # Australia/Sydney: 2026-04-05 03:00 AEDT -> 02:00 AEST; 2026-10-04 02:00 AEST ->
    # 03:00 AEDT.
    ("Australia/Sydney", "30 2 * * *", "2026-10-03T12:00"),
    ("Australia/Sydney", "30 2 * * *", "2026-04-04T12:00"),
    ("Australia/Sydney", "*/30 2 * * *", "2026-04-05T00:00"),
    ("Australia/Sydney", "0 * * * *", "2026-10-04T01:30"),
    ("Australia/Sydney", "0 12 31 12 *", "2026-12-31T12:00"),
    ("Australia/Sydney", "0 0 1 1,7 *", "2026-06-15T00:00"),
    # Clocks that change at midnight (America/Santiago: 2026-04-04 24:00 -> 23:00,
    # 2026-09-06 00:00 -> 01:00) and by 30 minutes (Australia/Lord_Howe: 2026-04-05
    # 02:00 -> 01:30, 2026-10-04 02:00 -> 02:30).
    ("America/Santiago", "@daily", "2026-09-05T12:00"),
    ("America/Santiago", "30 23 * * *", "2026-04-04T12:00"),
    ("America/Santiago", "*/20 23 * * *", "2026-04-04T23:30"),
    ("Australia/Lord_Howe", "*/15 * * * *", "2026-04-05T01:20"),
    ("Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00"),
]

# (zone, expression, start): no fire time within 5 years.
NONE = [
    ("UTC", "0 0 30 2 *", "2026-01-01T00:00"),
    ("UTC", "0 0 31 4,6,9,11 *", "2026-01-01T00:00"),
    ("UTC", "0 0 29 2 *", "2096-03-01T00:00"),
    ("Europe/London", "0 0 30 FEB ?", "2026-01-01T00:00"),
]
FIRES = 4
STARTS = 35  # --compare: start times per expression around a transition
FIRES_COMPARED = 3


# Local times just before the 2026 transitions of the zones compared (start times are
# drawn around them): the table's zones, and zones whose clocks change at midnight
# (Santiago, Beirut, Havana) or by 30 minutes (Lord Howe) or at :45 (Chatham).
TRANSITIONS = {"Europe/London": ["2026-03-29T00:30", "2026-10-25T01:00"],
               "America/New_York": ["2026-03-08T01:30", "2026-11-01T01:00"],
               "Australia/Sydney": ["2026-04-05T02:00", "2026-10-04T01:30"],
               "UTC": ["2026-06-30T23:00"],
               "America/Santiago": ["2026-04-04T22:00", "2026-09-05T23:00"],
               "Asia/Beirut": ["2026-03-28T23:00", "2026-10-24T22:30"],
               "America/Havana": ["2026-03-07T23:00", "2026-10-31T23:30"],
               "Australia/Lord_Howe": ["2026-04-05T01:00", "2026-10-04T01:00"],
               "Pacific/Chatham": ["2026-04-05T02:00", "2026-09-27T02:00"]}
ZONES = sorted(TRANSITIONS)


def random_field(f, rng):
    lo, _, star_hi, names, base = FIELDS[f]
    span = star_hi - lo + 1
    if f == 1 and rng.random() < 0.5:  # the hours that the zones' clocks change in
        return rng.choice(["0", "1", "2", "3", "23", "0-3", "1-2", "2,3", "22-23", "0/1"])
    kind = rng.choice(["*", "*", "step", "list", "range", "rangestep", "nstep", "one"])
    if f in (2, 3) and kind in ("one", "list"):
        kind = "*"  # keep fire times close, so that the minute walk stays short
    pick = lambda: rng.randint(lo, star_hi)
    if kind == "*":
        return rng.choice(["*", "?"]) if f in (2, 4) else "*"
    if kind == "step":
        return f"*/{rng.randint(1, min(span, 30))}"
    if kind == "one":
        v = pick()
        return names[v - base] if names and rng.random() < 0.3 else str(v)
    if kind == "list":
        return ",".join(str(v) for v in sorted(rng.sample(range(lo, star_hi + 1), 3)))
    a, b = sorted((pick(), pick()))
    if kind == "range":
        return f"{a}-{b}"
    if kind == "rangestep":
        return f"{a}-{b}/{rng.randint(1, 5)}"
    return f"{a}/{rng.randint(1, min(span, 10))}"


def compare(n):
    """Compares cron.c's td_cron_next with the model on n random cases."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with tempfile.TemporaryDirectory() as tmp:
        so = os.path.join(tmp, "cron.so")
        subprocess.run(["cc", "-std=gnu11", "-O1", "-shared", "-fPIC", "-I",
                        os.path.join(root, "shared", "include"),
                        os.path.join(root, "shared", "src", "cron.c"), "-o", so], check=True)
        lib = ctypes.CDLL(so)
    lib.td_cron_parse.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_char_p]
    lib.td_cron_next.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                 ctypes.POINTER(ctypes.c_int64)]
    lib.td_timezone_set.argtypes = [ctypes.c_char_p]
    rng = random.Random(int(os.environ.get("CRON_SEED", "13")))
    bad = checked = 0
    for i in range(n):
        zone = rng.choice(ZONES)
        tz = ZoneInfo(zone)
        expr = " ".join(random_field(f, rng) for f in range(5))
        base = instant(rng.choice(TRANSITIONS[zone]), tz)
        assert lib.td_timezone_set(zone.encode()) == 0
        c = ctypes.create_string_buffer(64)
        err = ctypes.create_string_buffer(160)
        assert lib.td_cron_parse(expr.encode(), c, err) == 0, (expr, err.value)
        cron = Cron(expr)
        # Starts every 7 minutes from 2 hours before the transition to 2 after, each
        # with the next fire time and the two after it.
        for k in range(STARTS):
            t = base - 2 * 3600 + k * 7 * 60 + rng.choice([0, 0, 30, 59])
            for _ in range(FIRES_COMPARED):
                want = next_fire(cron, t, tz)
                got = ctypes.c_int64(0)
                rc = lib.td_cron_next(c, t, ctypes.byref(got))
                checked += 1
                if (want is None) != (rc != 0) or (want is not None and got.value != want):
                    bad += 1
                    print(f"{zone} \"{expr}\" after {iso(t, tz)}: cron.c "
                          f"{iso(got.value, tz) if rc == 0 else rc}, model "
                          f"{iso(want, tz) if want else None}")
                    break
                if want is None:
                    break
                t = want
    print(f"compared {n} expressions, {checked} fire times: {bad} differences")
    return 1 if bad else 0


def main():
    if "--compare" in sys.argv:
        sys.exit(compare(int(sys.argv[sys.argv.index("--compare") + 1])))
    for zone, expr, start in CASES:
        tz = ZoneInfo(zone)
        cron = Cron(expr)
        t = instant(start, tz)
        out = []
        for _ in range(FIRES):
            t = next_fire(cron, t, tz)
            assert t is not None, (zone, expr, start)
            out.append(iso(t, tz))
        begin = iso(instant(start, tz), tz)
        fires = ", ".join(f'"{x}"' for x in out)
        print(f'    {{"{zone}", "{expr}", "{begin}",\n     {{{fires}}}}},')
    if "--check" in sys.argv:
        for zone, expr, start in NONE:
            tz = ZoneInfo(zone)
            assert next_fire(Cron(expr), instant(start, tz), tz) is None, (zone, expr)
        print("/* none within 5 years: checked */")


if __name__ == "__main__":
    main()
