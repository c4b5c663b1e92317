"""How far apart two countries are, and the rough cost band of the trip that follows.

A country is one point: the middle of the zones the tz database's `zone.tab` lists for it
(shipped in the `tzdata` package), their median latitude and median longitude. Most
countries have one zone, at the capital or the largest city; for a large one with several
(Brazil, Canada, Russia) the median lands inland, nearer most people than the first zone
listed (Fernando de Noronha, St. John's). Either way the distance is a rough figure, good
enough for a band and no more. A country without a zone in the file (Kosovo, which uses
Serbia's) has no point.
"""

import functools
import math
import statistics
from collections import defaultdict
from importlib.resources import files

LOW = "low"
MEDIUM = "medium"
HIGH = "high"
BANDS = (LOW, MEDIUM, HIGH)
# Under LOW_KM: overland or a short regional flight. Above HIGH_KM: a long-haul flight.
LOW_KM = 1000
HIGH_KM = 4000
EARTH_RADIUS_KM = 6371.0


@functools.cache
def country_points() -> dict[str, tuple[float, float]]:
    """Every country in `zone.tab` (ISO alpha-2 code) and its point, latitude and longitude
    in degrees: the median of its zones' own."""
    text = files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="ascii")
    zones: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, coordinates = line.split("\t")[:2]
        zones[code].append(_point(coordinates))
    return {
        code: (
            statistics.median(lat for lat, _lon in points),
            statistics.median(lon for _lat, lon in points),
        )
        for code, points in zones.items()
    }


def _point(text: str) -> tuple[float, float]:
    # ±DDMM[SS]±DDDMM[SS]: the longitude starts at the second sign.
    split = next(i for i in range(1, len(text)) if text[i] in "+-")
    return _degrees(text[:split], 2), _degrees(text[split:], 3)


def _degrees(text: str, width: int) -> float:
    digits = text[1:]
    minutes = int(digits[width : width + 2])
    seconds = int(digits[width + 2 :] or 0)
    value = int(digits[:width]) + minutes / 60 + seconds / 3600
    return -value if text[0] == "-" else value


def distance_km(origin: str, destination: str) -> float | None:
    """The great-circle distance in km between the points of two countries (ISO alpha-2
    codes), or None when either has no point."""
    points = country_points()
    if origin.upper() not in points or destination.upper() not in points:
        return None
    (lat1, lon1), (lat2, lon2) = points[origin.upper()], points[destination.upper()]
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_chord = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(half_chord))


def cost_band(km: float, *, visa_required: bool = False) -> str:
    """The rough cost of a trip of `km`: LOW, MEDIUM or HIGH. A visa bought in advance moves
    it one band up, capped at HIGH: the fee, and the trip to an embassy."""
    band = 0 if km < LOW_KM else 1 if km <= HIGH_KM else 2
    if visa_required:
        band = min(band + 1, len(BANDS) - 1)
    return BANDS[band]
