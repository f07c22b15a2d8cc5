"""Cells of notebooks/06_incident_dashboard.ipynb: the incident review as a dashboard (Voila)."""

from _cells import SETUP, code, md

NAME = "06_incident_dashboard.ipynb"

CELLS = [
    md("""
# Incident review dashboard

Pick a sample incident, or type the folder of your own incident (an rcakit incident folder, a dataset
folder or an export), and press **Load**. The dashboard then shows what went abnormal, drafts the causal
graph for you to review, ranks the root causes and writes the report. Every step says what it is doing on
the progress bar and can be stopped with **Cancel**.

Open it without code with Voila (`voila notebooks/06_incident_dashboard.ipynb`, or Binder's *voila* link
in the README); in JupyterLab, Notebook 7 or VS Code, run the two cells below.
"""),
    code(SETUP),
    code("""
from rcakit.ui import IncidentDashboard

IncidentDashboard("sim-M-network")   # the sample loads at once; pick another above and press Load"""),
]
