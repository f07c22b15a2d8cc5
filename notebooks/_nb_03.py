"""Cells of notebooks/03_llm_drafting.ipynb."""

from _cells import SETUP, code, md

NAME = "03_llm_drafting.ipynb"

CELLS = [
    md("""
# Drafting a causal graph with a language model

rcakit can ask a language model, Atlas style, which metric drives which: every component of the system is an
agent, and for each candidate pair of metrics it is asked a multiple-choice question (this drives that, no
direct influence, that drives this), several times with the options reordered; the majority wins. This
notebook shows

1. how to point rcakit at OpenAI, Azure OpenAI, vLLM or Ollama,
2. what happens when no model is configured (the default, and how this notebook runs in CI),
3. what a draft will cost **before** any call (the dry run),
4. a real run, offline, against a **local stand-in model**: votes, abstains and the cache,
5. the language model's edges next to the systems-knowledge suggester's, and
6. the incident report written by the "LLM expert" through the same client.

> **About the stand-in.** Section 4 uses `rcakit.graph.standin.StandInModel`: a small OpenAI-compatible server on
> 127.0.0.1 that answers by applying rcakit's own systems-knowledge rules to the two metrics in each
> question. It is a **deterministic stand-in for demos and tests, not a language model**: it lets you see
> the whole path (HTTP, the `openai` client, voting, the cache, the budget) without a model or a network.
> Its answers are only as good as rcakit's rules. Point the same code at a real endpoint to get a model's
> judgement.
"""),
    code(SETUP),
    md("""
## 1. Pointing rcakit at a model

Set environment variables before starting Jupyter (recommended: keys stay out of the notebook), or pass the
same settings as arguments. Arguments win over the environment.

| Where the model runs | Environment variables |
|---|---|
| OpenAI | `OPENAI_API_KEY=sk-...`, optionally `RCAKIT_LLM_MODEL=gpt-4o-mini` (the default) |
| Azure OpenAI | `AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com`, `AZURE_OPENAI_API_KEY=...`, `OPENAI_API_VERSION=2024-06-01`, `AZURE_OPENAI_DEPLOYMENT=<deployment>` |
| vLLM (`vllm serve <model>`) | `OPENAI_BASE_URL=http://localhost:8000/v1`, `RCAKIT_LLM_MODEL=<model>` (no key needed) |
| Ollama | `OPENAI_BASE_URL=http://localhost:11434/v1`, `RCAKIT_LLM_MODEL=llama3.1` (no key needed) |

Budget and behaviour: `RCAKIT_LLM_MAX_CALLS`, `RCAKIT_LLM_MAX_TOKENS`, `RCAKIT_LLM_TIMEOUT`,
`RCAKIT_LLM_CONCURRENCY`, `RCAKIT_LLM_CACHE_DIR`; `RCAKIT_LLM_OFFLINE=1` switches the model off. An API key
never reaches the cache, a notebook output or a report. See `docs/llm.md` for the details.
"""),
    code("""
# The same from Python (commented out: this notebook runs offline).
# from rcakit.llm import LLMClient, LLMConfig
#
# client = LLMClient.from_env(max_calls=1500)                       # None when nothing is configured
# client = LLMClient(model="gpt-4o-mini")                           # OpenAI, key from OPENAI_API_KEY
# client = LLMClient(LLMConfig(model="gpt-4o", provider="azure",    # Azure OpenAI
#                              base_url="https://<resource>.openai.azure.com",
#                              azure_deployment="<deployment>", api_version="2024-06-01",
#                              api_key=os.environ["AZURE_OPENAI_API_KEY"]))
# client = LLMClient(model="Qwen/Qwen2.5-7B-Instruct", base_url="http://localhost:8000/v1")   # vLLM
# client = LLMClient(model="llama3.1", base_url="http://localhost:11434/v1")                  # Ollama"""),
    md("""
## 2. Offline: what answers when no model is configured

`is_configured()` never touches the network; `offline_reason()` says why rcakit is offline. With no model,
`draft_graph` uses the **systems-knowledge suggester** (rules over what metrics mean) and the draft records
which suggester answered; the report falls back to its template and says so. The graph reviewer and the
report panel show the same names."""),
    code("""
from rcakit.llm import is_configured, offline_reason

print("language model configured:", is_configured())
print("why not:", offline_reason())"""),
    code("""
from rcakit.graph import draft_graph
from rcakit.sim import Topology
from rcakit.sim.truth import system_description

# The simulator's large system: 2 workers, each with a queue, a batcher and 4 GPUs (Atlas's input format).
description = system_description(Topology.large())
if is_configured():   # a model is set up in this environment: show the offline path explicitly, spend nothing
    from rcakit.graph import KnowledgeSuggester

    offline_draft = draft_graph(description, suggesters=[KnowledgeSuggester()])
else:
    offline_draft = draft_graph(description)   # no model: the default suggesters are systems knowledge
print(offline_draft)
print("answered by:", offline_draft.meta["suggesters"])"""),
    md("""
## 3. The cost of a draft, before any call

`LLMSuggester.dry_run` counts the questions a draft would ask: each candidate pair × `n_votes`, then
**semantic de-duplication** (a question is built from what the metrics *mean*: `GPU_3` is asked as `GPU`,
so the eight GPUs share one question), then what is already in the cache. It works offline and sends nothing."""),
    code("""
from rcakit.graph import SystemModel, candidate_pairs, enumerate_metrics
from rcakit.graph.suggest_llm import LLMSuggester

system = enumerate_metrics(SystemModel.from_atlas(description))
pairs = candidate_pairs(system)
estimate = LLMSuggester(None, n_votes=3).dry_run(pairs, system)
print(estimate.summary())
print(f"{len(pairs)} pairs x 3 votes = {3 * len(pairs)} questions; {estimate.unique} after de-duplication")"""),
    md("""
## 4. A real run against the local stand-in model

We start the stand-in (a thread serving 127.0.0.1 on a free port) and point an ordinary `LLMClient` at it,
with a cache in a temporary folder so that this notebook starts from an empty cache every time. With a real
model, only the `LLMClient(...)` line changes."""),
    code("""
import tempfile
from pathlib import Path

from rcakit.graph.standin import StandInModel
from rcakit.llm import LLMClient, LLMConfig

cache_dir = Path(tempfile.mkdtemp(prefix="rcakit-llm-cache-"))
model = StandInModel().start()      # a deterministic stand-in, NOT a language model
client = LLMClient(LLMConfig(model=model.model, base_url=model.base_url, cache_dir=cache_dir,
                             max_concurrency=8, max_calls=2000))
llm = LLMSuggester(client, n_votes=3)
print(model)
print(llm.dry_run(pairs, system).summary())"""),
    code("""
proposals = llm.suggest(pairs, system)
print("requests the model received:", model.count)
client.usage"""),
    md("""
### Votes
Each pair was asked three times with the options in a different order. Most answers are unanimous; where
the stand-in's rule is weak it imitates a model's **position bias** (it picks whichever of "this edge" and
"no direct influence" is listed first), so the reordered votes split 2 to 1. That is exactly what voting
over reordered options is for: the majority, and a confidence of 2/3 instead of 1."""),
    code("""
import collections

import pandas as pd

def vote_text(votes):
    return ", ".join(f"{k}={v}" for k, v in votes.items() if v)

print(collections.Counter(vote_text(p.votes) for p in proposals).most_common())
split, seen = [], set()
for p in proposals:  # one example per pair of metric names: replicas answer alike
    kind = (p.a.split(":", 1)[1], p.b.split(":", 1)[1])
    if max(p.votes.values()) < 3 and kind not in seen:
        seen.add(kind)
        split.append(p)
pd.DataFrame([{"a": p.a, "b": p.b, "verdict": p.verdict.value, "votes": vote_text(p.votes),
               "confidence": round(p.confidence, 2)} for p in split])"""),
    code("""
p = split[0]
print(p.a, "?", p.b, "->", p.verdict.value)
print(p.rationale)"""),
    md("""
### Abstains
An answer whose last line is not a single option letter is asked once more, then counted as an **abstain**
(a tie is an abstain too), so another suggester can answer that pair. The stand-in answers without a letter
when it cannot tell what a metric measures; here we ask about a made-up, opaque metric `Router:tenant_mix`."""),
    code("""
from rcakit.graph import CandidatePair

before = model.count
(opaque,) = llm.suggest([CandidatePair("Router:latency", "Router:tenant_mix")], system)
print("verdict:", opaque.verdict.value, "| votes:", vote_text(opaque.votes))
print("requests:", model.count - before, "(3 reordered questions, each asked twice because no letter came back)")
print(opaque.rationale)"""),
    md("""
### The cache: a second draft makes zero calls
Answers are stored one file per question in the cache folder (never an API key). A new client on the same
cache, drafting the same system again, asks nothing."""),
    code("""
before = model.count
client2 = LLMClient(LLMConfig(model=model.model, base_url=model.base_url, cache_dir=cache_dir))
llm_draft = draft_graph(description, suggesters=[LLMSuggester(client2, n_votes=3)])
print(llm_draft)
print("new requests:", model.count - before, "| cache hits:", client2.usage.cache_hits,
      "| files in the cache:", len(list(cache_dir.rglob("*.json"))))"""),
    md("""
## 5. The model's edges and the knowledge suggester's

Same candidate pairs, two suggesters. They mostly agree (the stand-in applies the same rules); where they
differ it is because the knowledge suggester also sees the *structure* of the system (whether a caller waits
for its callee, whether a metric belongs to a request whose rate the clients set) and the stand-in only sees
one question at a time. With a real model the disagreements are where a reviewer should look first."""),
    code("""
from rcakit.graph import KnowledgeSuggester

knowledge_draft = draft_graph(description, suggesters=[KnowledgeSuggester()])
llm_edges, kn_edges = set(llm_draft.edges), set(knowledge_draft.edges)
print(f"both: {len(llm_edges & kn_edges)}, only the model: {len(llm_edges - kn_edges)}, "
      f"only knowledge: {len(kn_edges - llm_edges)}")
pd.DataFrame(
    [{"edge": f"{s} -> {t}", "proposed by": "model only", "why": llm_draft.edge(s, t).rationale[:110]}
     for s, t in sorted(llm_edges - kn_edges)[:5]]
    + [{"edge": f"{s} -> {t}", "proposed by": "knowledge only", "why": knowledge_draft.edge(s, t).rationale[:110]}
       for s, t in sorted(kn_edges - llm_edges)[:5]])"""),
    md("""
Drafting with both suggesters keeps every suggester's provenance, votes and rationale on each edge; the
reviewer (notebook 01) shows them when you click an edge. All of the model's answers come from the cache now."""),
    code("""
before = model.count
both = draft_graph(description, suggesters=[LLMSuggester(client2, n_votes=3), KnowledgeSuggester()])
print(both, "| new requests:", model.count - before)
print("answered by:", both.meta["suggesters"])
pd.DataFrame([{"edge": f"{e.source} -> {e.target}", "provenance": "+".join(p.value for p in e.provenance),
               "confidence": round(e.confidence, 2), "votes": vote_text(e.votes)}
              for e in list(both.edges.values())[:8]])"""),
    md("""
## 6. The report by the "LLM expert", through the same client

`write_report(..., llm=client)` sends the facts of an incident (ranked root causes, fault type, symptoms,
architecture, log and trace context, fenced as data) to the model and asks for Observation / Reasoning /
Final answer and the repair and prevention steps. Here the stand-in writes it from the prompt's data blocks;
the report says who wrote it. The sample incident comes from the same simulator, so its draft is built from
answers already in the cache: count the new requests below."""),
    code("""
from rcakit.attribution import attribute
from rcakit.detect import detect_anomalies
from rcakit.report import write_report

incident = rcakit.sample_incident("sim-M-network")
before = model.count
draft = draft_graph(incident, suggesters=[LLMSuggester(client2, n_votes=3), KnowledgeSuggester()])
print("new requests to draft the sample incident:", model.count - before)
anomalies = detect_anomalies(incident)
result = attribute(draft, incident)
report = write_report(incident, attribution=result, anomalies=anomalies, draft=draft, llm=client2)
print("written by:", report.writer)"""),
    code("""
from IPython.display import Markdown

Markdown(report.to_markdown())"""),
    md("""
Did the expert name the true cause? The simulator knows what it injected."""),
    code("""
print("injected:", incident.truth.root_cause_nodes, "| fault type:", incident.truth.fault_type)
print("report's final answer:\\n" + report.section("Final answer"))"""),
    md("""
Stop the stand-in when done (a real endpoint needs nothing of the kind). The temporary cache folder can be
deleted; a real cache lives in `~/.cache/rcakit/llm` and makes every repeated draft free."""),
    code("""
import shutil

model.stop()
shutil.rmtree(cache_dir, ignore_errors=True)
print("total requests to the stand-in:", model.count)"""),
]
