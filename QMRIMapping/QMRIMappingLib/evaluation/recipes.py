"""Which networks the evaluation needs and how each is trained.

Every network starts from one base training config (``base_config`` of the evaluation
config, benchmarks/network_base.yaml) and changes only what its row is about, so the
rows differ in one factor each (Huang et al., arXiv 2303.07623, Tables II-III, Fig. 3;
Epstein et al., "Choice of training label matters"):

==================  ==========================================================
key                 change from the base config
==================  ==========================================================
homou               uncertainty weighting (Baseline+HOMOU); early stopping watches
                    the unweighted sum of the task losses (the weighted total moves
                    with the learned σ itself)
baseline            fixed weighting, lambda = 0.5
heteu               HETEU architecture, fixed weighting 0.5
stsm_T1rho / _T2    STSM single-task network (shared + own contrast)
st_T1rho / _T2      ST single-task network (all three images)
sl_mle              supervised L1 against the NLLS (MLE) labels of the 4+4 images:
                    the paper's SL row
sl_gt / sl_hybrid   supervised L1 against ground truth / alpha*MLE + (1-alpha)*GT
baseline_t2x<s>     baseline with the T2 loss multiplied by s (Table III)
homou_t2x<s>        HOMOU with the T2 loss multiplied by s (Table III)
lambda_<l>          fixed weighting lambda_a = l (Fig. 3)
homou_seed<n>       HOMOU / baseline with training seed n (initialisation, batch
baseline_seed<n>    order, crops, augmentation; same training cohort)
design_paper_*      the paper's design: images + times in, T out directly
                    (``input_features: images``, ``residual: false``)
design_direct_homou  + log two-point T channels, T out directly
design_unsmoothed_homou  + residual on the unsmoothed two-point map
design_paper_homou_long  the paper's design with ``design_long_epochs`` epochs
design_paper_*_t2x<s>  the paper's design with the T2 loss multiplied by s (Table III
                    without the residual design's fallback)
==================  ==========================================================
"""

from __future__ import annotations

FIXED_HALF = {"weighting": {"kind": "fixed", "lambda": 0.5}}


def base_recipes() -> dict[str, dict]:
    """The fixed part of the table: key -> overrides of the base training config."""
    recipes = {
        "homou": {"model": {"architecture": "homou"}, "weighting": {"kind": "uncertainty"},
                  "training": {"monitor": "sum"}},
        "baseline": {"model": {"architecture": "baseline"}, **FIXED_HALF},
        "heteu": {"model": {"architecture": "heteu"}, **FIXED_HALF},
        "sl_mle": {"model": {"architecture": "baseline"}, **FIXED_HALF,
                   "loss": {"kind": "supervised", "label_mode": "mle"}},
        "sl_gt": {"model": {"architecture": "baseline"}, **FIXED_HALF,
                  "loss": {"kind": "supervised", "label_mode": "gt"}},
        "sl_hybrid": {"model": {"architecture": "baseline"}, **FIXED_HALF,
                      "loss": {"kind": "supervised", "label_mode": "hybrid"}},
    }
    for architecture in ("stsm", "st"):
        for task in ("T1rho", "T2"):
            recipes[f"{architecture}_{task}"] = {
                "model": {"architecture": architecture, "task": task},
                "weighting": {"kind": "fixed"}}
    return recipes


def t2_scale_key(kind: str, scale: float) -> str:
    return f"{kind}_t2x{scale:g}"


def scaled_model_key(kind: str, scale: float) -> str:
    """The network of ``kind`` trained with the T2 loss times ``scale`` (1: ``kind`` itself)."""
    return kind if scale == 1.0 else t2_scale_key(kind, scale)


def lambda_key(value: float) -> str:
    return f"lambda_{value:g}"


def seed_key(kind: str, seed: int) -> str:
    return f"{kind}_seed{seed}"


#: The design ablation (shipped design vs the paper's): label -> model key, simplest first.
DESIGN_ROWS = (
    ("paper design, fixed 0.5 (images + times -> T)", "design_paper_baseline"),
    ("paper design, HOMOU (images + times -> T)", "design_paper_homou"),
    ("paper design, HOMOU, long training", "design_paper_homou_long"),
    ("+ two-point T channels, direct output, HOMOU", "design_direct_homou"),
    ("+ residual on the two-point map, HOMOU", "design_unsmoothed_homou"),
    ("+ residual on the smoothed two-point map, HOMOU (shipped)", "homou"),
)
PAPER_MODEL = {"input_features": "images", "residual": False, "residual_smoothing_px": 0.0}


def _with(recipe: dict, section: str, values: dict) -> dict:
    """``recipe`` with ``values`` merged into its ``section`` (recipes are shallow)."""
    return {**recipe, section: {**recipe.get(section, {}), **values}}


def all_recipes(t2_scales: list[float], lambdas: list[float], seeds: list[int] = (),
                long_epochs: int = 45) -> dict[str, dict]:
    """Base recipes plus the T2-scale, manual-lambda, seed and design variants."""
    recipes = base_recipes()
    for seed in seeds:
        for kind in ("homou", "baseline"):
            recipes[seed_key(kind, seed)] = _with(recipes[kind], "training", {"seed": seed})
    for kind in ("homou", "baseline"):
        recipes[f"design_paper_{kind}"] = _with(recipes[kind], "model", PAPER_MODEL)
    recipes["design_paper_homou_long"] = _with(
        recipes["design_paper_homou"], "training", {"epochs": long_epochs,
                                                    "patience": max(5, long_epochs // 4)})
    for scale in t2_scales:
        for kind in ("baseline", "homou"):
            recipes[t2_scale_key(f"design_paper_{kind}", scale)] = {
                **recipes[f"design_paper_{kind}"], "loss": {"t2_loss_scale": float(scale)}}
    recipes["design_direct_homou"] = _with(recipes["homou"], "model", {
        "input_features": "two_point", "residual": False, "residual_smoothing_px": 0.0})
    recipes["design_unsmoothed_homou"] = _with(recipes["homou"], "model", {
        "residual": True, "residual_smoothing_px": 0.0})
    for scale in t2_scales:
        for kind in ("baseline", "homou"):
            recipes[t2_scale_key(kind, scale)] = {
                **recipes[kind], "loss": {"t2_loss_scale": float(scale)}}
    for value in lambdas:
        recipes[lambda_key(value)] = {"model": {"architecture": "baseline"},
                                      "weighting": {"kind": "fixed", "lambda": float(value)}}
    return recipes


#: Rows of Table II: label -> model keys (single-task rows combine one net per map).
COMPARISON_ROWS = (
    ("STSM", ("stsm_T1rho", "stsm_T2")),
    ("ST", ("st_T1rho", "st_T2")),
    ("SL", ("sl_mle",)),
    ("Baseline", ("baseline",)),
    ("Baseline+HETEU", ("heteu",)),
    ("Baseline+HOMOU", ("homou",)),
)

#: Label-choice rows: label -> model key.
LABEL_ROWS = (
    ("SL, GT labels", "sl_gt"),
    ("SL, MLE labels", "sl_mle"),
    ("SL, hybrid labels", "sl_hybrid"),
    ("self-supervised (Baseline)", "baseline"),
    ("self-supervised (HOMOU)", "homou"),
)


def needed_keys(experiments: list[str], t2_scales: list[float],
                lambdas: list[float], seeds: list[int] = ()) -> list[str]:
    """Model keys the chosen experiments use, in training order (headline first)."""
    keys: list[str] = []

    def add(*names: str) -> None:
        keys.extend(n for n in names if n not in keys)

    if "comparison" in experiments:
        add("homou", "baseline", "heteu")
        for _, row in COMPARISON_ROWS:
            add(*row)
    if "robustness" in experiments:
        add("homou", "baseline")
        for scale in t2_scales:
            add(t2_scale_key("baseline", scale), t2_scale_key("homou", scale))
    if "lambda" in experiments:
        add("homou", "baseline", *(lambda_key(v) for v in lambdas))
    if "labels" in experiments:
        add(*(key for _, key in LABEL_ROWS))
    if "seeds" in experiments:
        add("homou", "baseline")
        for seed in seeds:
            add(seed_key("homou", seed), seed_key("baseline", seed))
    if "design" in experiments:
        add(*(key for _, key in DESIGN_ROWS))
        if t2_scales:
            add(*(t2_scale_key(f"design_paper_{kind}", max(t2_scales))
                  for kind in ("baseline", "homou")))
    if "speed" in experiments:
        add("homou")
    return keys
