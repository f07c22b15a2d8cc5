"""``LLMSuggester``: Atlas's language-model agents asking, for each candidate pair, which metric drives which.

Each component is an agent (Atlas 4.2): the system prompt tells the model it *is* that component and
what its job is; the user prompt gives the two metrics with their descriptions and how the other
component relates (same component, the next service invoked, a resource used), then three options
(this metric drives that one, no direct influence, that one drives this one), asks to think step by
step and to put the letter alone on the last line (Appendix B).

Every pair is asked ``n_votes`` times with the options reordered (the cyclic shifts of the three
options, then of the mirrored order), the answers are counted and the majority wins; the whole
distribution is kept in ``Proposal.votes`` and the confidence is the winner's share. An answer whose
last line is not exactly one option letter is asked again (``parse_retries`` times) and otherwise
counts as an abstain.

Questions are built from what the metrics *mean*, never from replica names: ``GPU_3`` is asked as
``GPU``, so GPU_0..GPU_7 share one question and one cache entry (Atlas's semantic cache). The cache
key holds the component templates and kinds, descriptions, metric names and descriptions, the
relation, the option order, the model and :data:`PROMPT_VERSION`. A pair and its mirror (``(a, b)``
and ``(b, a)``) are one question too: the agent and the order of the two metrics are fixed by the
pair's meaning, and the answer is flipped back for the mirror.

The semantic cache can only remove replicas: a draft asks ``n_votes`` times every *distinct* question,
which on the simulator's topologies is exactly the questions of the unreplicated system (simulator S).
With ``stop_at_majority=True`` a question is asked as Atlas does, "repeated with varied order of options
until a majority vote agreement is reached" (Appendix B): the first ``n_votes // 2 + 1`` votes are asked,
then one more at a time only while the remaining votes could still change the winner. The verdict is
always the one all ``n_votes`` votes would give when the skipped votes go either way; ``votes`` holds
the votes actually asked, and the confidence is the winner's share of all ``n_votes`` (the skipped votes
counted against it, a lower bound).

The questions themselves (framing, option orders, reading the answer) are built in
:mod:`rcakit.graph._llm_questions`; their public names are imported from here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, Unpack

from rcakit.graph._llm_questions import (
    MAX_RATIONALE,
    PROMPT_VERSION,
    REMINDER,
    Question,
    _clean,
    _links,
    _Option,
    _questions,
    _reasoning,
    build_question,
    parse_choice,
)
from rcakit.graph.proposal import CandidatePair, Proposal, Provenance, Verdict
from rcakit.graph.system import SystemModel
from rcakit.llm import (
    Estimate,
    LLMClient,
    LLMConfigError,
    LLMError,
    LLMNotConfigured,
    estimate_message_tokens,
    offline_reason,
)

if TYPE_CHECKING:
    from rcakit._progress import CancelToken
    from rcakit._types import JSONObject

__all__ = ["PROMPT_VERSION", "LLMSuggester", "Question", "build_question", "default_suggester", "majority_settled",
           "parse_choice"]

log = logging.getLogger("rcakit.llm")

@dataclass(frozen=True)
class _Answer:
    option: str | None  # forward / none / backward, None for an abstain
    rationale: str
    cached: bool
    calls: int
    failure: str = ""  # why the model gave no answer at all (timeouts, errors after the retries)


def majority_settled(counts: Mapping[str | None, int], remaining: int) -> bool:
    """Whether ``remaining`` more votes can no longer change the majority of the votes in ``counts``.

    ``counts`` maps an option (None: an abstain, which counts for no option) to its votes so far. The
    winner is settled when it leads the runner-up by more than ``remaining``: even if every remaining
    vote went to the runner-up, the winner would still be the unique maximum. With nothing remaining
    the votes are complete, settled or tied.
    """
    if remaining <= 0:
        return True
    ranked = sorted((v for k, v in counts.items() if k is not None and v > 0), reverse=True)
    leader = ranked[0] if ranked else 0
    second = ranked[1] if len(ranked) > 1 else 0
    return leader > second + remaining


class LLMSuggester:
    """Suggest causal edges by asking a language model, Atlas style (see the module docstring).

    ``client`` is an :class:`~rcakit.llm.LLMClient`; with None it is built from the environment, and
    :meth:`suggest` raises :class:`~rcakit.llm.LLMNotConfigured` when nothing is configured (use the
    systems-knowledge suggester offline). ``n_votes`` is how often each pair is asked (3 or 5 are
    sensible); ``parse_retries`` how often an unparseable answer is asked again. With
    ``stop_at_majority`` the votes of a question stop once the remaining ones cannot change the winner
    (Atlas's "until a majority vote agreement is reached"): the same verdicts for about a third fewer
    calls when the model answers consistently, but ``votes`` then holds only the votes asked.
    """

    provenance = Provenance.LLM

    def __init__(self, client: LLMClient | None = None, *, n_votes: int = 3, parse_retries: int = 1,
                 stop_at_majority: bool = False) -> None:
        if int(n_votes) < 1:
            raise ValueError(f"n_votes must be at least 1, got {n_votes}")
        if int(parse_retries) < 0:
            raise ValueError(f"parse_retries must be >= 0, got {parse_retries}")
        if client is None:
            client = LLMClient.from_env()
        self.client = client
        self.n_votes = int(n_votes)
        self.parse_retries = int(parse_retries)
        self.stop_at_majority = bool(stop_at_majority)
        self.name = f"llm:{client.config.model}" if client is not None else "llm"
        self.last_estimate: Estimate | None = None

    def __repr__(self) -> str:
        stop = ", stop_at_majority=True" if self.stop_at_majority else ""
        return (f"LLMSuggester(model={self.client.config.model if self.client else None!r}, "
                f"n_votes={self.n_votes}{stop})")

    @property
    def _first_round(self) -> int:
        """How many votes of a question are asked before looking at the answers."""
        return self.n_votes // 2 + 1 if self.stop_at_majority else self.n_votes

    # -- planning --------------------------------------------------------------------------------
    def _plan(self, pairs: Sequence[CandidatePair], system: SystemModel
              ) -> tuple[list[list[tuple[str, bool]]], dict[str, Question]]:
        """Per pair, the (key, flipped) of each vote; and the unique questions by key."""
        per_pair: list[list[tuple[str, bool]]] = []
        unique: dict[str, Question] = {}
        links = _links(system)
        votes = range(self.n_votes)
        for pair in pairs:
            questions, flipped = _questions(pair, system, votes, links)
            row = []
            for q in questions:
                key = self._key(q)
                unique.setdefault(key, q)
                row.append((key, flipped))
            per_pair.append(row)
        return per_pair, unique

    def _key(self, q: Question) -> str:
        if self.client is not None:
            return self.client.key_for(q.semantic(), PROMPT_VERSION)
        from rcakit.llm import cache_key

        return cache_key(q.semantic(), model="", prompt_version=PROMPT_VERSION)

    def dry_run(self, pairs: Sequence[CandidatePair], system: SystemModel) -> Estimate:
        """How many calls and prompt tokens :meth:`suggest` will spend on these pairs, without sending any.

        Counts questions after semantic de-duplication and the cache; assumes each answer parses
        (``max_calls`` allows for every answer being asked again). With ``stop_at_majority`` it assumes
        the votes not yet in the cache agree with each other (cached votes are read), which is the
        fewest calls the draft can make; ``max_calls`` is then also the most, every vote being needed.
        """
        pairs = list(pairs)
        per_pair, unique = self._plan(pairs, system)
        return self._estimate(len(pairs), unique, per_pair)

    def _cached(self, key: str) -> bool:
        return self.client is not None and self.client.config.use_cache and key in self.client.cache

    def _estimate(self, n_pairs: int, unique: dict[str, Question],
                  per_pair: Sequence[Sequence[tuple[str, bool]]]) -> Estimate:
        cached = {key for key in unique if self._cached(key)}
        if self.stop_at_majority:
            to_ask = [key for group in _groups(per_pair) for key in self._expected_asks(group, unique, cached)]
        else:
            to_ask = [key for key in unique if key not in cached]
        prompt_tokens = sum(estimate_message_tokens(unique[key].messages()) for key in to_ask)
        calls = len(to_ask)
        out = self.client.config.max_output_tokens if self.client is not None else 0
        return Estimate(calls=calls, prompt_tokens=prompt_tokens, max_completion_tokens=calls * out,
                        questions=n_pairs * self.n_votes, unique=len(unique), cached=len(cached),
                        max_calls=(len(unique) - len(cached)) * (1 + self.parse_retries), pairs=n_pairs,
                        model=self.client.config.model if self.client is not None else "",
                        stop_at_majority=self.stop_at_majority)

    def _expected_asks(self, group: Sequence[str], unique: dict[str, Question], cached: set[str]) -> list[str]:
        """The votes of one question that a draft will send, if every vote not in the cache agrees."""
        counts: Counter[str | None] = Counter()
        asks: list[str] = []
        for index, key in enumerate(group):
            if index >= self._first_round and majority_settled(counts, len(group) - index):
                break
            answer = self._from_cache(unique[key]) if key in cached else None
            if answer is None:  # not cached, or cached unparseable with its re-ask not cached
                asks.append(key)
                leader = counts.most_common(1)[0][0] if counts else "?"
                counts[leader] += 1
            else:
                counts[answer.option] += 1
        return asks

    def _from_cache(self, q: Question) -> _Answer | None:
        """The answer to ``q`` as :meth:`_ask` would give it from the cache alone; None when a call is needed."""
        client = self.client
        if client is None:
            return None
        semantic = q.semantic()
        text = ""
        for attempt in range(self.parse_retries + 1):
            key = semantic if attempt == 0 else {**semantic, "reask": attempt}
            hit = client.cache.get(client.key_for(key, PROMPT_VERSION))
            if hit is None:
                return None
            text = hit.text
            letter = parse_choice(text)
            if letter is not None:
                return _Answer(q.option_of(letter), _reasoning(text), True, 0)
        return _Answer(None, _reasoning(text), True, 0, failure="no option letter in the cached answers")

    # -- asking ----------------------------------------------------------------------------------
    def _ask(self, q: Question) -> _Answer:
        client = self.client
        if client is None:
            raise LLMNotConfigured("no language model client")
        messages = q.messages()
        semantic = q.semantic()
        calls = 0
        cached = True
        text = ""
        for attempt in range(self.parse_retries + 1):
            try:
                if attempt == 0:
                    result = client.chat(messages, cache_key=semantic, prompt_version=PROMPT_VERSION)
                else:
                    followup = [*messages, {"role": "assistant", "content": text},
                                {"role": "user", "content": REMINDER}]
                    result = client.chat(followup, cache_key={**semantic, "reask": attempt},
                                         prompt_version=PROMPT_VERSION)
            except LLMError as exc:  # the endpoint kept failing: this vote abstains, the draft goes on
                log.warning("LLM question abstains: %s", exc)
                return _Answer(None, "", cached and attempt > 0, calls, failure=str(exc)[:300])
            calls += 0 if result.cached else 1
            cached = cached and result.cached
            text = result.text
            letter = parse_choice(text)
            if letter is not None:
                return _Answer(q.option_of(letter), _reasoning(text), cached, calls)
        last = _clean((text or "").strip().splitlines()[-1] if (text or "").strip() else "an empty answer", 80)
        return _Answer(None, _reasoning(text) or _clean(text, MAX_RATIONALE), cached, calls,
                       failure=f"no option letter after {self.parse_retries + 1} asks (last line: {last!r})")

    def suggest(
        self,
        pairs: Sequence[CandidatePair],
        system: SystemModel,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Proposal]:
        """One :class:`Proposal` per pair, in order, with the vote distribution and the model's reasoning.

        Checks the budget against a dry run first (raising :class:`~rcakit.llm.BudgetExceeded` before
        any call; with ``stop_at_majority`` against the fewest calls the draft can make, and the client
        refuses the call that would exceed the budget), then asks each unique question once on the
        client's thread pool (with ``stop_at_majority``, the first votes of every question, then one
        more round per further vote, for the questions still open). Answers land in
        the cache as they arrive, so an interrupted run resumes where it stopped.
        """
        if self.client is None:
            raise LLMNotConfigured((offline_reason() or "no language model configured")
                                   + "; pass LLMSuggester(client=LLMClient(...)) or use the knowledge suggester")
        pairs = list(pairs)
        if not pairs:
            return []
        per_pair, unique = self._plan(pairs, system)
        estimate = self._estimate(len(pairs), unique, per_pair)
        self.last_estimate = estimate
        self.client.check_budget(estimate)
        report = None
        if on_progress is not None:
            callback = on_progress

            def report(done: int, total: int) -> None:
                # The caller counts pairs; questions are fewer after de-duplication.
                callback(len(pairs) * done // max(total, 1), len(pairs))

        groups = _groups(per_pair)
        first = self._first_round
        keys = [key for group in groups for key in group[:first]]
        answers = dict(zip(keys, self.client.map(self._ask, [unique[k] for k in keys], on_progress=report,
                                                 cancel=cancel, desc="LLM suggestions")))
        # Further votes, one round at a time, only for questions whose winner is still open.
        open_groups = groups
        for index in range(first, self.n_votes):
            open_groups = [group for group in open_groups if not majority_settled(
                Counter(answers[key].option for key in group[:index]), len(group) - index)]
            keys = [group[index] for group in open_groups]
            if not keys:
                break
            answers.update(zip(keys, self.client.map(self._ask, [unique[k] for k in keys], cancel=cancel,
                                                     desc=f"LLM suggestions, vote {index + 1}")))
        if on_progress is not None:
            on_progress(len(pairs), len(pairs))
        proposals = []
        for pair, row in zip(pairs, per_pair):
            proposals.append(self._combine(pair, row, answers, unique))
        return proposals

    def _combine(self, pair: CandidatePair, row: list[tuple[str, bool]], answers: dict[str, _Answer],
                 unique: dict[str, Question]) -> Proposal:
        votes = {Verdict.A_CAUSES_B.value: 0, Verdict.B_CAUSES_A.value: 0, Verdict.NO_EDGE.value: 0,
                 Verdict.ABSTAIN.value: 0}
        reasons: dict[str, str] = {}
        failures: list[str] = []
        asked = 0
        for key, flipped in row:
            answer = answers.get(key)
            if answer is None:  # not needed: the votes before it settled the majority
                continue
            asked += 1
            if answer.failure:
                failures.append(answer.failure)
            if answer.option is None:
                verdict = Verdict.ABSTAIN
            elif answer.option == _Option.NONE:
                verdict = Verdict.NO_EDGE
            elif (answer.option == _Option.FORWARD) != flipped:
                verdict = Verdict.A_CAUSES_B
            else:
                verdict = Verdict.B_CAUSES_A
            votes[verdict.value] += 1
            if answer.rationale and verdict.value not in reasons:
                reasons[verdict.value] = answer.rationale
        decided = {k: v for k, v in votes.items() if k != Verdict.ABSTAIN.value and v > 0}
        top = max(decided.values()) if decided else 0
        leaders = [k for k, v in decided.items() if v == top]
        if len(leaders) == 1:
            verdict = Verdict(leaders[0])
            confidence = top / len(row)
        else:  # all abstained, or a tie: no majority
            verdict = Verdict.ABSTAIN
            confidence = 0.0
        q = unique[row[0][0]]
        rationale = reasons.get(verdict.value, "")
        if verdict is Verdict.ABSTAIN and not rationale:
            rationale = ("no majority: " + ", ".join(f"{k}={v}" for k, v in votes.items() if v)) if decided else \
                f"the model gave no usable answer ({failures[0]})" if failures else "no answer could be parsed"
        evidence: JSONObject = {}
        if failures:  # said on the proposal: an unanswered vote is an abstain, never a silent "no edge"
            evidence["unanswered"] = {"votes": len(failures), "reason": failures[0]}
        return Proposal(
            a=pair.a, b=pair.b, verdict=verdict, provenance=Provenance.LLM, confidence=confidence, votes=votes,
            rationale=rationale, rule=None, suggester=self.name,
            evidence={"model": self.client.config.model if self.client else "", "prompt_version": PROMPT_VERSION,
                      "asked_as": q.agent + (f" / {q.other}" if q.other else ""), "relation": q.relation,
                      "votes_asked": asked, **evidence},
        )


def _groups(per_pair: Sequence[Sequence[tuple[str, bool]]]) -> list[tuple[str, ...]]:
    """The distinct questions of a plan, each as the keys of its votes in order (pairs asking the same
    question, replicas or mirrors, share one group)."""
    seen: dict[tuple[str, ...], None] = {}
    for row in per_pair:
        seen.setdefault(tuple(key for key, _ in row), None)
    return list(seen)


class _SuggesterOptions(TypedDict, total=False):
    """The keyword options of :class:`LLMSuggester`, as :func:`default_suggester` forwards them."""

    n_votes: int
    parse_retries: int
    stop_at_majority: bool


def default_suggester(**options: Unpack[_SuggesterOptions]) -> LLMSuggester | None:
    """The LLM suggester for the configured endpoint, or None offline (the draft then uses systems knowledge).

    ``options`` go to :class:`LLMSuggester` (``n_votes``, ``parse_retries``). A half-done configuration
    (a base URL without a model name) is logged and treated as offline.
    """
    try:
        client = LLMClient.from_env()
    except LLMConfigError as exc:
        log.warning("language model not used: %s", exc)
        return None
    return None if client is None else LLMSuggester(client, **options)
