"""``qmri evaluate``: the paper's comparison and the robustness, weighting, label-choice
and speed experiments on the held-out phantom cohort (seeds >= 900000).

* ``config``: the evaluation config (YAML/JSON);
* ``recipes``: which network each table row needs and how it is trained;
* ``models``: train the missing ones (cached by config) or take installed ones;
* ``subjects`` / ``scoring``: test cohorts, noise draws, RMAE in the ROI and other regions;
* ``experiments``: one function per table or figure; ``report``: CSV, markdown, PNG;
* ``run``: :func:`run_evaluation`, what the command calls.
"""
