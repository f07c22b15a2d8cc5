"""``StandInModel``: a deterministic local stand-in for a language model, for demos and tests. NOT a language model.

It is a small OpenAI-compatible chat server (127.0.0.1, an ephemeral port, a daemon thread) that
answers rcakit's own prompts by rule, so that the whole LLM path (the ``openai`` client, voting over
reordered options, abstains, the on-disk cache, the budget, the expert report) can be run and seen
offline, in a notebook or a test, with no model and no network:

* **Atlas's multiple-choice questions** (``rcakit.graph.suggest_llm``): it reads the two metrics from
  the prompt, maps each to its meaning with :func:`rcakit.graph.meanings.metric_meaning` and applies
  rcakit's systems-knowledge rules (:data:`rcakit.graph.knowledge.RULES`) to the relation the prompt
  states; it answers one line of reasoning and the option letter alone on the last line. It sees only
  the prompt, not the system model, so it cannot apply the rules' structural guards: where its edges
  differ from the knowledge suggester's, that is why. For a *weak* rule (confidence <= 0.6) it
  imitates a model's position bias and picks whichever of "that edge" and "no direct influence" is
  listed first, so the votes over reordered options split (2 to 1). For a metric whose meaning it
  cannot tell it answers without a letter, so rcakit asks again and then counts an abstain.
* **The incident-report prompt** (``rcakit.report.expert``): it answers the required Markdown
  sections, built only from the prompt's ``<data>`` blocks (root entities, fault type, symptoms,
  log and trace context) plus a fixed table of repair and prevention steps per fault type.
* Anything else gets a one-line refusal that says what it is.

It lives beside the knowledge rules it answers from (the LLM client package imports nothing of the
graph's); the server plumbing is :mod:`rcakit.llm.server`.

>>> from rcakit.graph.standin import StandInModel
>>> from rcakit.llm import LLMClient, LLMConfig
>>> with StandInModel() as model:                                          # doctest: +SKIP
...     client = LLMClient(LLMConfig(model=model.model, base_url=model.base_url, cache_dir=tmp))
...     draft = draft_graph(incident, suggesters=[LLMSuggester(client)])
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rcakit.llm.server import ChatServer, Reply, first_user, options_of

if TYPE_CHECKING:
    from rcakit._types import JSONObject
    from rcakit.llm.client import LLMClient

__all__ = ["STANDIN_MODEL", "StandInModel"]

#: The model name the stand-in reports (any name sent by a client is accepted).
STANDIN_MODEL = "rcakit-standin"
#: Rules at or below this confidence are "weak": the stand-in then shows position bias (see the module doc).
WEAK_RULE = 0.6
NOT_A_MODEL = ("This is rcakit's StandInModel, a deterministic rule-based stand-in for demos and tests, not a "
               "language model. It answers only rcakit's multiple-choice causal questions and incident-report "
               "prompts.")

_FORWARD = re.compile(r'^A change in "(?P<cause>.+?)" of (?P<cwho>.+?) directly causes a change in '
                      r'"(?P<effect>.+?)" of (?P<ewho>.+?)\.$')
_AGENT = re.compile(r"^You are an? (?P<kind>\w+) named (?P<name>.+?) in a software system")
_DATA = re.compile(r"^(?P<label>[^\n]+):\n<data>\n(?P<body>.*?)\n</data>", re.MULTILINE | re.DOTALL)

# Repair and prevention steps by a word of the fault type; the first that matches wins.
_PLAYBOOK: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("cpu", ("Find what is burning CPU on the root entity (a runaway process, a co-located noisy neighbour) and "
             "stop or move it.", "Raise the entity's CPU limit or add replicas until its latency is back to the "
             "baseline."),
     ("Alert on CPU throttling and saturation of the entity, not only on end-to-end latency.",
      "Set CPU requests and limits from load tests; isolate latency-critical services from batch work.")),
    ("mem", ("Restart or scale out the root entity to relieve memory pressure; look for a leak in the last "
             "release.", "Raise the memory limit if the working set has grown legitimately."),
     ("Alert on memory growth rate and garbage-collection time.", "Add a leak check to the release pipeline.")),
    ("network", ("Check the network path of the root entity (delay, loss, a misbehaving sidecar or node) and "
                 "move the pod off a faulty node.", "Lower client timeouts and enable retries with backoff "
                 "on its callers."),
     ("Monitor per-hop latency from traces so that a slow link is seen before users see it.",
      "Spread replicas across nodes and zones.")),
    ("latency", ("Find the slowest hop on the critical path in the slow traces and relieve it (scale out, "
                 "roll back the last change).",),
     ("Alert on per-service latency against its own baseline.",)),
    ("error", ("Roll back the change that introduced the failures, or fail over to a healthy replica.",
               "Read the new error log templates of the root entity for the failing call."),
     ("Add a canary stage that watches the error rate.", "Alert on new error log templates.")),
    ("config", ("Restore the last known-good configuration of the root entity.",),
     ("Review and test configuration changes like code; keep them versioned.",)),
    ("batch", ("Restore the configured batch size of the root entity.",),
     ("Validate batch-size changes against latency in a load test.",)),
)
_DEFAULT_PLAYBOOK: tuple[tuple[str, ...], tuple[str, ...]] = (("Relieve the root entity (roll back its last change, restart or scale it out) and watch "
                      "whether the alarm recovers.",),
                     ("Add an alert on the root entity's anomalous metrics so that the next occurrence is caught "
                      "at its source.",))


class StandInModel(ChatServer):
    """A deterministic stand-in for a language model (not a language model): see the module docstring.

    ``StandInModel()`` is a local OpenAI-compatible server; start it with ``start()`` or a ``with``
    block, point an :class:`~rcakit.llm.LLMClient` at :attr:`base_url` with model :attr:`model`, and
    ``stop()`` it when done. :attr:`count` is how many requests it received.
    """

    def __init__(self, model: str = STANDIN_MODEL) -> None:
        super().__init__()
        self.model = model

    def __repr__(self) -> str:
        where = self.base_url if self.running else "not running"
        return f"StandInModel({self.model!r}, {where}, {self.count} requests; a rule-based stand-in, not a model)"

    def start(self) -> StandInModel:
        super().start()
        return self

    def __enter__(self) -> StandInModel:
        return self.start()

    def client(self, **options: Any) -> LLMClient:  # Any: LLMConfig's keyword options, forwarded as given
        """An :class:`~rcakit.llm.LLMClient` for this server (``options`` go to :class:`~rcakit.llm.LLMConfig`)."""
        from rcakit.llm.client import LLMClient
        from rcakit.llm.config import LLMConfig

        return LLMClient(LLMConfig(model=self.model, base_url=self.base_url, api_key="not-needed", **options))

    # -- answering -------------------------------------------------------------------------------
    def reply(self, body: JSONObject) -> Reply:
        messages = body.get("messages", [])
        system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
        user = first_user(body)
        options = options_of(user)
        if len(options) == 3:
            return Reply(answer_choice(system, user, options))
        if ("<data>" in user and "## " in user) or "[Task objective]" in user:
            return Reply(answer_report(user))
        return Reply(NOT_A_MODEL)


def _description(user: str, metric: str) -> str:
    match = re.search(r"(?<![\w.])" + re.escape(metric) + r" is (?:another )?a? ?metric of [^.\n]*? and it means (.+?)\.(?: |\n|$)",
                      user)
    return match.group(1) if match else ""


def _relation(user: str) -> tuple[str, str | None]:
    """The relation the prompt states between the agent and the other component, and the other's kind."""
    if "is the next service that requests will invoke" in user:
        return "invokes", "service"
    if "is a resource that you use" in user:
        return "uses", "resource"
    if "is a queue that you take requests from" in user:
        return "consumes", "service"
    match = re.search(r" is an? (\w+) on the path of your requests", user)
    if match:
        return "request_path", match.group(1)
    match = re.search(r" is an? (\w+) that directly interacts with you", user)
    if match:
        return "interacts", match.group(1)
    return "same", None


def answer_choice(system: str, user: str, options: dict[str, str]) -> str:
    """Reasoning and a letter (or, for an unknown meaning, no letter) for one Atlas question."""
    from rcakit.graph.knowledge import RULES
    from rcakit.graph.meanings import Meaning, metric_meaning

    agent = _AGENT.match(system)
    agent_kind = agent.group("kind") if agent else "service"
    relation, other_kind = _relation(user)
    none_letter = next((k for k, v in options.items() if "do not directly influence" in v), None)
    edges: dict[str, tuple[str, bool, str, bool]] = {}  # letter -> (cause, cause is agent's, effect, effect is agent's)
    for letter, text in options.items():
        match = _FORWARD.match(text.strip())
        if match:
            edges[letter] = (match.group("cause"), match.group("cwho") == "you", match.group("effect"),
                             match.group("ewho") == "you")
    if none_letter is None or len(edges) != 2:
        return "I cannot read two metrics and three options in this question.\nI do not know."

    def meaning(metric: str, is_agent: bool) -> Meaning:
        kind = agent_kind if is_agent else other_kind
        return metric_meaning(metric, _description(user, metric), component_kind=kind)

    metrics = {}
    for cause, cause_agent, effect, effect_agent in edges.values():
        metrics[(cause, cause_agent)] = meaning(cause, cause_agent)
        metrics[(effect, effect_agent)] = meaning(effect, effect_agent)
    unknown = [name for (name, _), m in metrics.items() if m is Meaning.UNKNOWN]
    if unknown:
        return (f'Step by step: I cannot tell what "{unknown[0]}" measures from its name and description, so I '
                "cannot choose between the options.\nI do not know.")
    said = "; ".join(f'"{name}" measures {m.value.replace("_", " ")}' for (name, _), m in metrics.items())
    for rule in RULES:
        if rule.relation not in (relation, "any") and not (relation == "interacts" and rule.relation != "same"):
            continue
        for letter, (cause, cause_agent, effect, effect_agent) in sorted(edges.items()):
            mc, me = metrics[(cause, cause_agent)], metrics[(effect, effect_agent)]
            if mc not in rule.cause or me not in rule.effect:
                continue
            if (relation not in ("same", "interacts") and rule.relation not in ("same", "any")
                    and rule.cause_side != "either" and (rule.cause_side == "source") != cause_agent):
                continue
            reasoning = (f"Step by step: {said}. As a rule, {rule.text}. So a change in \"{cause}\" drives "
                         f"\"{effect}\" ({rule.name}).")
            if rule.confidence <= WEAK_RULE:
                # A weak link: like a hesitant model, take whichever of the edge and "no influence" comes first.
                chosen = min(letter, none_letter)
                if chosen == none_letter:
                    reasoning = (f"Step by step: {said}. One might argue that {rule.text}, but the link is weak "
                                 "and indirect, so I do not see a direct influence.")
                return f"{reasoning}\n{chosen}"
            return f"{reasoning}\n{letter}"
    return (f"Step by step: {said}. No mechanism I know links these across this relation ({relation}), so they "
            f"do not directly influence each other.\n{none_letter}")


def _blocks(user: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for match in _DATA.finditer(user):
        lines = [line.strip() for line in match.group("body").splitlines() if line.strip()]
        out[match.group("label").strip()] = [] if lines == ["(none)"] else lines
    return out


def _bullets(lines: list[str], empty: str) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else f"- {empty}"


def answer_report(user: str) -> str:
    """The expert report's Markdown sections, built from the prompt's data blocks only."""
    blocks = _blocks(user)
    roots = blocks.get("Root entities (ranked)", [])
    related = blocks.get("Related entities", [])
    fault_lines = blocks.get("Fault type", [])
    fault = fault_lines[0] if fault_lines else "unknown"
    evidence = [line.removeprefix("evidence: ") for line in fault_lines[1:]]
    symptoms = blocks.get("Symptoms", [])
    logs = blocks.get("Context: logs", [])
    traces = blocks.get("Context: traces", [])
    alarm = next((line.removeprefix("alarm: ") for line in blocks.get("Alarm and windows", [])
                  if line.startswith("alarm: ")), "the alarm")
    missing = re.search(r"^Missing data: (.+?)\. Say how", user, re.MULTILINE)
    missing_text = missing.group(1) if missing else "none"
    root = re.sub(r"\s*\(score [^)]*\)$", "", roots[0]) if roots else "unknown"
    root_entity = root.split(":", 1)[0]
    repair, prevention = _DEFAULT_PLAYBOOK
    for word, fix, prevent in _PLAYBOOK:
        if word in fault.lower():
            repair, prevention = fix, prevent
            break
    confidence = ("all three modalities (metrics, logs, traces) were available" if missing_text == "none" else
                  f"{missing_text} were missing, so the conclusion rests on fewer signals and is less certain")
    sections = [
        ("Observation", "\n".join([
            _bullets(symptoms[:6], "no anomalous metric was reported"),
            *(["- Logs: " + line for line in logs[:3]]),
            *(["- Traces: " + line for line in traces[:3]]),
        ])),
        ("Reasoning", (
            f"The alarm is {alarm}. The highest-ranked root candidate is {root}"
            + (f", ahead of {', '.join(re.sub(r' [(]score [^)]*[)]$', '', r) for r in roots[1:3])}" if roots[1:] else "")
            + ". The attribution ranks it first; the related entities "
            + (", ".join(related[:5]) if related else "(none listed)")
            + " are where its degradation travelled on the way to the alarm. "
            + (f"The fault-type evidence ({'; '.join(evidence[:3])}) points to {fault}. " if evidence else
               f"The fault type given is {fault}. ")
            + f"On the data: {confidence}.")),
        ("Final answer", "\n".join([f"- Root cause: {root}", f"- Related entities: {', '.join(related[:5]) or 'none'}",
                                    f"- Fault type: {fault}"])),
        ("Root-cause analysis", f"{root} is the most likely origin: the ranking puts it first and the symptoms "
                                f"above show the degradation spreading from {root_entity} to {alarm}."),
        ("Type and level of failure", f"{fault}, at the level of the {('component' if ':' in root else 'entity')} "
                                      f"{root_entity}; the effect is service-wide through {alarm}."),
        ("Repair", _bullets(list(repair), "")),
        ("Prevention", _bullets(list(prevention), "")),
    ]
    note = "*Written by rcakit's StandInModel, a deterministic rule-based stand-in, not a language model.*"
    return note + "\n\n" + "\n\n".join(f"## {name}\n{body}" for name, body in sections)
