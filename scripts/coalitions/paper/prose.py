"""The hand-written prose of the paper (no numbers: every number is generated in :mod:`gather`).

Written once in the markup of :func:`coalitions.paper.fmt.parse_prose` (``[citet:key]``,
``[citep:key]``, ``*emphasis*``) and rendered by both templates. The facts come from the
articles and the 2017 ISQ online symposium: the debate, the definitions and the models. Citation keys are those of the registry's BibTeX and of
``templates/literature.bib``.
"""

from __future__ import annotations

TITLE = "Who Abandons Whom? Re-estimating Weisiger (2016) and Henke (2017) under Alternative Coding Rules"

INTRO = [
    "Why do states abandon their coalition partners in the middle of a war? [citet:weisiger2016exiting] "
    "argues that coalition partners are more likely to pull out of a war when they fight separately from "
    "their partners, on a front of their own, and when the coalition is doing badly on the battlefield. He "
    "defines abandonment as any case in which a country ceases to engage in organized military efforts "
    "against the enemy contrary to the wishes of its coalition partners, and tests the argument with Cox "
    "proportional hazards models of how long each participant in a multilateral interstate war stays in "
    "the war.",

    "The article was the subject of an online symposium of *International Studies Quarterly* "
    "[citep:wolford2017introduction], and the critiques there are about coding rules. "
    "[citet:henke2017abandoning] notes that the sample stops in 2003 and so leaves out the withdrawals "
    "from Iraq and Afghanistan (Spain left Iraq in April 2004), that abandonment can be partial rather "
    "than complete withdrawal, and that what a coalition is, and who belongs to it, is itself a coding "
    "choice. [citet:morey2017defining] argues that a definition that mixes a behaviour (a state stops "
    "fighting) with a partner's preference (the partner wanted it to go on) produces false positives: a "
    "state *entrapped* by war aims that expanded after it joined, or a state that stops once its own "
    "*limited objectives* are met while the others fight on, has not abandoned anyone. In his reply, "
    "[citet:weisiger2017response] holds that the coding rules mostly stand, names the French withdrawal "
    "from the Crimean War as the one case he can think of that fits the entrapment objection, and argues "
    "that his hypotheses should hold even if states compensate partners to prevent abandonment when the "
    "war goes badly.",

    "[citet:henke2017politics] studies the other side of coalition politics: how the United States "
    "builds multilateral military coalitions. Her answer is diplomatic embeddedness, the count of all "
    "bilateral and multilateral institutional ties between the United States and a third country at the "
    "date of an intervention; the more embedded a country, the more likely it is to join the US-led "
    "coalition (see also [citet:henke2019constructing]). Since cooperation then sits on both sides of the "
    "regression [citep:poast2020review], how embeddedness and membership are coded matters as much here "
    "as it does for exits.",

    "This paper re-estimates both sets of models in two tracks. The *original-archive* track uses the "
    "authors' replication data from Harvard Dataverse [citep:weisiger2016data,henke2017data] whenever "
    "they can be obtained and verified against the checksums Dataverse publishes. The *rebuilt* track "
    "reconstructs the data from public sources and says, for every variable, whether it is rebuilt, "
    "hand-coded, a proxy for the original variable, or not available. Both tracks are estimated under a "
    "baseline coding and under alternative coding rules that turn the symposium's objections into explicit, "
    "documented switches. [section:sec-answer] answers the question the comparison exists for: for each coding "
    "rule, grouped by who proposed it, whether the key terms of each study keep their sign and significance. "
    "A multiverse analysis ([section:sec-multiverse]) crosses the switches, and [section:sec-discussion] sums "
    "up. The per-model tables, the coding rules, the data sources and variables, the cases whose status "
    "changes and the provenance of every file are in the appendices. Every number in the text, the tables "
    "and the figures is read from the workflow's result files; a value that could not be computed, or a "
    "published value that could not be read, is reported as not available and never filled in.",
]

DATA = [
    "[table:tab-sources] lists every public dataset the workflow reads, with its version, provider, terms of use and "
    "the SHA-256 checksum of the exact bytes that were verified when the file was fetched; none of these "
    "files is redistributed with the workflow. Participants, dates and war outcomes come from the "
    "Correlates of War inter-state war data [citep:sarkees2010resort]; material capabilities from the "
    "National Material Capabilities data [citep:singer1972capability]; alliance ties from ATOP "
    "[citep:leeds2002atop], because the maintainer of the Correlates of War Formal Alliances data asked "
    "that software not facilitate its use; regime type from Polity5; leader changes from Archigos "
    "[citep:goemans2009archigos]; and joint memberships in intergovernmental organizations from the "
    "Correlates of War IGO data [citep:pevehouse2020igo].",
]

WEISIGER_METHOD = (
    "Weisiger's models are Cox proportional hazards models on multiple records per participant (a "
    "country in a war), in analysis time measured in days since the participant entered the war, with Breslow's "
    "treatment of ties and standard errors clustered by coalition. The tables report coefficients, "
    "not hazard ratios: a positive coefficient means a higher hazard of leaving the war. Each column of a "
    "table below is one source of estimates: the published article, the original archive and the "
    "rebuilt data, each under the baseline and the alternative codings."
)

WEISIGER_REBUILD = (
    "The rebuilt track cannot reproduce every variable. The battlefield trends (War Worsening, own trend), "
    "the front-level Common Front measure, the separate-peace clauses and voluntary exit need dated "
    "battles, fronts or hand coding; where the rebuilt data use an approximation, the estimate is marked "
    "as a proxy, and models whose variables are missing are reported as not estimable with the reason."
)

HENKE_METHOD = (
    "Henke's outcome is whether a country joins a US-led multilateral coalition, one row per potential "
    "contributor and operation, and the variable of interest is diplomatic embeddedness. The tables report "
    "logit (or conditional logit) coefficients with standard errors in parentheses and, for embeddedness, "
    "the average marginal effect (AME) on the probability of joining."
)

HENKE_SPEC_UNKNOWN = (
    "Her archive has two stages, a replication of Lake's hierarchy regression [citep:lake2009hierarchy] "
    "with embeddedness added and a new dataset of US-led coalitions; it holds no do-file, and the "
    "specification is known only from its Stata logs. Without the archive, the unit of analysis, the "
    "outcome coding, the estimator and the controls of the rebuilt track follow the natural reading of "
    "the article and remain to be confirmed against the logs."
)

MULTIVERSE = (
    "A multiverse analysis estimates the key model under every combination of the coding switches "
    "(every *universe*). The specification curves sort the universes by the estimate of the key "
    "coefficient, with its 95% confidence interval; the panel beneath marks the switch settings of each "
    "universe."
)

SYNTHETIC_WARNING = (
    "Synthetic data. Some of the results in this document were computed from synthetic data made to "
    "test the software, not from the real datasets: {what}. Their numbers say nothing about coalitions "
    "and must not be cited as findings."
)
