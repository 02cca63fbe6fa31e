"""The coding parameters of the rebuilt Weisiger data, as one frozen, validated object.

Every choice the rebuild makes that a reasonable scholar could make differently is a field of
:class:`WeisigerCoding`, with a default that reproduces Weisiger's published coding as closely as
the public data allow (where his choice is unknown, the docstring says so). Alternative coding rules
(for example Morey's or Henke's objections in the 2017 ISQ symposium) are expressed as other values
of these fields, loaded with :meth:`WeisigerCoding.from_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from ..util import CoalitionsError

SECOND_SPELLS = ("auto", "separate", "merge")
TIME_ORIGINS = ("own_entry", "war_start", "entry")
NEWLEAD_REFERENCES = ("entry", "war_start")
NMC_TABLES = ("cow_nmc5", "cow_nmc6", "cow_nmc7")
POLITY_TABLES = ("democracy_state_year", "polity5")
VOLUNT_DEFAULTS = ("voluntary", "forced", "missing", "error")
POLITY_GAPS = ("carry_last", "missing")
POLITY_UNLISTED = ("nondemocracy", "missing")
FOVERLAP_SOURCES = ("fronts", "theatre")
FRONT_WEIGHTINGS = ("share", "equal")
FRONT_GAPS = ("carry", "missing")
TREND_SOURCES = ("cdb90", "iwbd")
TREND_EMPTY_WINDOWS = ("missing", "no_change")


@dataclass(frozen=True)
class CensorCase:
    """One exit that an alternative coding rule declares not to be abandonment (it is censored).

    Example: Morey's *entrapment* objection, which Weisiger's reply concedes for France in the
    Crimean War: ``CensorCase(22, 220, 1, "entrapment (Morey 2017)")``.
    """

    warnum: int
    ccode: int
    side: int
    reason: str


@dataclass(frozen=True)
class WeisigerCoding:
    """Every coding parameter of the rebuilt participant-period data.

    Exit rules (who abandoned the coalition)
    ----------------------------------------
    exit_tolerance_days
        A participant exits when its participation ends more than this many days before its side's
        last end date; endings within the tolerance are censored with the side (COW dates of
        members ending together sometimes differ by a day or two).
    side_change_is_exit, side_change_max_days
        A state that leaves its side and, within ``side_change_max_days``, fights on the other side
        of the same war (Italy 1943, Romania and Bulgaria 1944, France 1940, Germany in the Latvian
        war 1919) abandoned its partners (``side_change``). A later return on the other side (Vichy
        France, defeated in Syria in 1941, back with the Allies in 1944) is not a side change, and
        the exit is judged by the other rules.
    censor_enemy_surrender
        A member whose fighting ends on the day the last enemy in its theatre stopped fighting did
        not abandon anyone: the enemy it faced surrendered (Brazil and Italy on 7 May 1945). The
        theatre is the set of COW WhereFought regions; "coincides" means within the tolerance.
    war_ending_exits, war_ending_exits_as_abandonment
        Apply the case file of exits that ended the whole war (wars 22, 28, 155), which COW cannot
        show; ``as_abandonment=False`` is Weisiger's appendix recode ("No WD. if War Ends").
    not_exit_cases
        Apply the case file of COW end dates that are not exits (forces fought on under a partner).
    second_spells, pause_max_days
        A COW participant can have a second spell (it stopped and re-entered). ``"separate"``: each
        spell is its own at-risk unit (own ``idvar``), and the end of the first is judged by the
        exit rules; ``"merge"``: one spell from the first entry to the last end, the pause counts
        as participation; ``"auto"`` (default): merge pauses of at most ``pause_max_days`` (truces:
        the Balkan armistice of 1912-13, the 1948 Arab-Israeli truces, the USSR between its wars
        with Germany and Japan) and keep longer absences separate (France's defeat in 1940 and its
        return in 1944).
    censor_cases, exclude_wars
        Alternative coding rules: censor named exits (each with its reason) and drop whole wars.

    Analysis time
    -------------
    time_origin
        ``"own_entry"`` (default): analysis time counts days since the participant's own entry, day 1
        being its first day (Weisiger's do-file labels warday 260 as 1 January 1918 for the US in
        WWI, whose COW entry is 17 April 1917, and warday 756 as 1 January 1944 for the US in WWII,
        entry 7 December 1941). ``"war_start"``: days since the war began, every participant at risk
        from day 0 (Stata's ``stset`` without ``enter()`` on a war clock). ``"entry"``: days since
        the war began, at risk only from its own entry (left truncation).

    Covariates
    ----------
    recexit_window_days, recexit2_window_days
        ``recexit``/``recexit2`` = another member of the coalition exited within this many days.
        Weisiger's windows are not documented in the public files; 30 and 90 are our choice.
    minor_threshold
        A participant-period is "minor" when contribpc <= this (the appendix's "No Minor
        Participants" keeps contribpc > .1).
    late_join_days
        latejoin = the participant entered more than this many days after the war's first day
        (Weisiger's threshold is not documented; 30 is our choice).
    demdum_threshold
        demdum = polity2 >= this (6: the conventional Polity democracy threshold).
    newlead_reference, newlead_window_days
        newlead = the leader in office (Archigos) took office after the participant's entry
        (``"entry"``) or after the war's start (``"war_start"``); with a window, only within the
        last ``newlead_window_days`` days.
    nmc_table, nmc_fill_years
        Which NMC release gives CINC, military personnel and population; a missing state-year
        value is filled from the same state's nearest year with data within ``nmc_fill_years``.
        NMC 5.0 is the release nearest to Weisiger's (2016; NMC 4.0 is not in the mirror).
    polity_table
        ``"democracy_state_year"`` (peacesciencer's polity2 keyed by COW codes, fewer gaps for
        Austria-Hungary and Serbia) or ``"polity5"`` (Polity's own country codes).

    Hand-coded variables and missing source data (:mod:`coalitions.weisiger.handcoded`)
    -----------------------------------------------------------------------------------
    volunt_default
        ``volunt`` of an exit that has no row in ``weisiger_voluntary.csv`` (nor in
        ``conquest_exits.csv``): ``"voluntary"`` (default: an exit is a choice unless a sourced
        row says it was forced), ``"forced"``, ``"missing"`` (the exit is dropped from the
        voluntary-exit models, and listed in dropped.csv) or ``"error"`` (the build stops and
        names the exits). Participants.volunt_source says which rule coded each exit.
    polity_gaps, polity_fill_years
        Polity's interruption (-66), interregnum (-77) and transition (-88) years without a
        polity2 value (Norway, the Netherlands and Belgium under German occupation in 1940):
        ``"carry_last"`` (default) takes the state's last polity2 before the gap within
        ``polity_fill_years`` years (for a new state whose first Polity year is such a code, its
        first value after); ``"missing"`` leaves them missing.
    polity_unlisted
        States Polity does not list in the year (it covers states of 500,000 inhabitants or more,
        so not Hanover, Hesse or Mecklenburg in 1866): ``"nondemocracy"`` (default) codes
        ``demdum`` 0 and leaves ``polity2`` missing; ``"missing"`` leaves both missing.
    archigos_gap_days
        Archigos has short interregna between two leaders (France between Reynaud and Petain, 12-16
        June 1940): in a gap of at most this many days, where the leaders file has no leader
        either, the outgoing leader counts until the next one takes office (0: leave them missing).
    foverlap_source, front_weighting
        ``foverlap`` (Common Front) from the sourced front file ``config/cases/weisiger_fronts.csv``
        (``"fronts"``, default: Weisiger's definition, the weighted share of the participant's active
        fronts on which a partner is also active, day by day) or from the COW WhereFought theatre
        proxy (``"theatre"``: share of its regions in which an active partner also fought).
        ``front_weighting``: ``"share"`` weights the fronts by the file's force shares where every
        active front of the day has one (equal weights otherwise); ``"equal"`` always weights them
        equally (see coalitions.weisiger.fronts). ``front_gaps``: a day of the participation on which
        the file gives the participant no active front (a lull; the days between its last fighting
        and its formal exit, when the sources date them apart) takes the value of its nearest earlier
        front day, or of its first one before any (``"carry"``, default: its forces stay where they
        were; else the exits that end such a gap would be lost to every model with foverlap), or
        stays missing (``"missing"``).
    trend_source, trend_empty_window, ctrend_windows, trend_windows
        ``ctrendK``/``otrend60`` from dated battles (coalitions.weisiger.trends): ``"cdb90"`` (the
        CAA/HERO battles with casualties; loss share = own casualties over both sides') or ``"iwbd"``
        (Min 2021; loss share = share of battles lost). ``trend_empty_window``: what a window without
        battles gets: ``"no_change"`` (default; a trend of 0, so that the many wars and days without
        dated battles stay in the sample, as in the other models) or ``"missing"``. ``ctrend_windows``: the windows
        whose ``ctrendK`` columns are in the periods table (each with its own record boundaries;
        ctrend60 always); ``trend_windows``: the windows of the trend file (``trends.parquet``) from
        which a model using another window (the Fig. 5 sweep, 15-120 days) gets its ``ctrendK``,
        its records split at that window's steps only.
    """

    exit_tolerance_days: int = 0
    side_change_is_exit: bool = True
    side_change_max_days: int = 365
    censor_enemy_surrender: bool = True
    war_ending_exits: bool = True
    war_ending_exits_as_abandonment: bool = True
    not_exit_cases: bool = True
    second_spells: str = "auto"
    pause_max_days: int = 365
    time_origin: str = "own_entry"
    recexit_window_days: int = 30
    recexit2_window_days: int = 90
    minor_threshold: float = 0.1
    late_join_days: int = 30
    demdum_threshold: int = 6
    newlead_reference: str = "entry"
    newlead_window_days: int | None = None
    nmc_table: str = "cow_nmc5"
    nmc_fill_years: int = 5
    polity_table: str = "democracy_state_year"
    foverlap_source: str = "fronts"
    front_weighting: str = "share"
    front_gaps: str = "carry"
    trend_source: str = "cdb90"
    trend_empty_window: str = "no_change"
    ctrend_windows: tuple[int, ...] = (60,)
    trend_windows: tuple[int, ...] = tuple(range(15, 121))
    censor_cases: tuple[CensorCase, ...] = field(default_factory=tuple)
    exclude_wars: tuple[int, ...] = field(default_factory=tuple)
    volunt_default: str = "voluntary"
    polity_gaps: str = "carry_last"
    polity_fill_years: int = 10
    polity_unlisted: str = "nondemocracy"
    archigos_gap_days: int = 31

    def __post_init__(self) -> None:
        _check(self, "<WeisigerCoding>")

    # ------------------------------------------------------------------ (de)serialisation
    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, origin: str = "coding") -> "WeisigerCoding":
        """Build from plain data (a YAML mapping); unknown keys and bad values name ``origin``."""
        if d is None:
            d = {}
        if not isinstance(d, Mapping):
            raise CoalitionsError(f"{origin}: the Weisiger coding must be a mapping of parameters, "
                                  f"got {type(d).__name__}")
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise CoalitionsError(f"{origin}: unknown Weisiger coding parameter(s) {unknown}; "
                                  f"known: {sorted(names)}")
        kw: dict[str, Any] = {}
        for key, value in d.items():
            kw[key] = _convert(key, value, origin)
        obj = cls.__new__(cls)
        defaults = cls()
        for name in names:
            object.__setattr__(obj, name, kw.get(name, getattr(defaults, name)))
        _check(obj, origin)
        return obj

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for provenance files and for :meth:`from_dict`)."""
        d = asdict(self)
        d["censor_cases"] = [dict(c) for c in d["censor_cases"]]
        d["exclude_wars"] = list(self.exclude_wars)
        d["ctrend_windows"] = list(self.ctrend_windows)
        d["trend_windows"] = list(self.trend_windows)
        return d


_INT_KEYS = ("exit_tolerance_days", "side_change_max_days", "pause_max_days", "recexit_window_days",
             "recexit2_window_days", "late_join_days", "demdum_threshold", "nmc_fill_years", "polity_fill_years",
             "archigos_gap_days")
_BOOL_KEYS = ("side_change_is_exit", "censor_enemy_surrender", "war_ending_exits",
              "war_ending_exits_as_abandonment", "not_exit_cases")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _convert(key: str, value: Any, origin: str) -> Any:
    where = f"{origin}: parameter '{key}'"
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise CoalitionsError(f"{where} must be true or false, got {value!r}")
        return value
    if key in _INT_KEYS:
        if not _is_int(value):
            raise CoalitionsError(f"{where} must be a whole number, got {value!r}")
        return value
    if key == "newlead_window_days":
        if value is not None and not _is_int(value):
            raise CoalitionsError(f"{where} must be a whole number of days or null, got {value!r}")
        return value
    if key == "minor_threshold":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CoalitionsError(f"{where} must be a number, got {value!r}")
        return float(value)
    if key in ("second_spells", "time_origin", "newlead_reference", "nmc_table", "polity_table", "volunt_default",
               "polity_gaps", "polity_unlisted", "foverlap_source", "front_weighting", "front_gaps", "trend_source",
               "trend_empty_window"):
        if not isinstance(value, str):
            raise CoalitionsError(f"{where} must be a string, got {value!r}")
        return value
    if key in ("ctrend_windows", "trend_windows"):
        if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
            raise CoalitionsError(f"{where} must be a list of whole numbers of days, got {value!r}")
        return tuple(value)
    if key == "exclude_wars":
        if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
            raise CoalitionsError(f"{where} must be a list of COW war numbers, got {value!r}")
        return tuple(value)
    if key == "censor_cases":
        if not isinstance(value, (list, tuple)):
            raise CoalitionsError(f"{where} must be a list of {{warnum, ccode, side, reason}} entries, "
                                  f"got {value!r}")
        out = []
        for i, item in enumerate(value):
            w = f"{origin}: parameter '{key}[{i}]'"
            if isinstance(item, CensorCase):
                out.append(item)
                continue
            if not isinstance(item, Mapping):
                raise CoalitionsError(f"{w} must be a mapping with warnum, ccode, side, reason; got {item!r}")
            extra = sorted(set(item) - {"warnum", "ccode", "side", "reason"})
            if extra:
                raise CoalitionsError(f"{w}: unknown key(s) {extra}; allowed: warnum, ccode, side, reason")
            for k in ("warnum", "ccode", "side"):
                if not _is_int(item.get(k)):
                    raise CoalitionsError(f"{w}: '{k}' must be a whole number, got {item.get(k)!r}")
            reason = item.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise CoalitionsError(f"{w}: 'reason' must be a non-empty text saying why the exit is censored")
            out.append(CensorCase(item["warnum"], item["ccode"], item["side"], reason.strip()))
        return tuple(out)
    raise CoalitionsError(f"{where}: not a known parameter")  # pragma: no cover (from_dict checks names)


def _check(c: WeisigerCoding, origin: str) -> None:
    def bad(key: str, msg: str) -> CoalitionsError:
        return CoalitionsError(f"{origin}: parameter '{key}' {msg}, got {getattr(c, key)!r}")

    for key in ("exit_tolerance_days", "side_change_max_days", "pause_max_days", "late_join_days",
                "nmc_fill_years", "polity_fill_years", "archigos_gap_days"):
        if getattr(c, key) < 0:
            raise bad(key, "must be >= 0")
    for key in ("recexit_window_days", "recexit2_window_days"):
        if getattr(c, key) < 1:
            raise bad(key, "must be at least 1 day")
    if c.newlead_window_days is not None and c.newlead_window_days < 1:
        raise bad("newlead_window_days", "must be at least 1 day or null")
    if not 0 <= c.minor_threshold <= 1:
        raise bad("minor_threshold", "must be a share between 0 and 1")
    if not -10 <= c.demdum_threshold <= 10:
        raise bad("demdum_threshold", "must be a polity2 value between -10 and 10")
    for key, allowed in (("second_spells", SECOND_SPELLS), ("time_origin", TIME_ORIGINS),
                         ("newlead_reference", NEWLEAD_REFERENCES), ("nmc_table", NMC_TABLES),
                         ("polity_table", POLITY_TABLES), ("volunt_default", VOLUNT_DEFAULTS),
                         ("polity_gaps", POLITY_GAPS), ("polity_unlisted", POLITY_UNLISTED),
                         ("foverlap_source", FOVERLAP_SOURCES),
                         ("front_weighting", FRONT_WEIGHTINGS), ("front_gaps", FRONT_GAPS),
                         ("trend_source", TREND_SOURCES),
                         ("trend_empty_window", TREND_EMPTY_WINDOWS)):
        if getattr(c, key) not in allowed:
            raise bad(key, f"must be one of {list(allowed)}")
    for key in ("ctrend_windows", "trend_windows"):
        if any(w < 1 for w in getattr(c, key)):
            raise bad(key, "must be positive numbers of days")
    for i, case in enumerate(c.censor_cases):
        if case.side not in (1, 2):
            raise CoalitionsError(f"{origin}: parameter 'censor_cases[{i}]' side must be 1 or 2, got {case.side}")
