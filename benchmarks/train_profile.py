"""Where the time of `python -m train` goes: every part timed in one process (fit.n_jobs=1),
wall and CPU seconds, by wrappers around its functions.

    PYTHONPATH=src python benchmarks/train_profile.py [key=value ...]   # the train command's overrides

The model is written to /tmp/boilercut-train-profile.joblib (not models/). benchmarks/NOTES.md,
"Training time (issue 18)", has the figures.
"""
import sys, time, functools, collections
t_start = time.perf_counter(); c_start = time.process_time()
from hydra import initialize_config_dir, compose
import boilercut.train as T, boilercut.training as TR, boilercut.data as D, boilercut.features as F
import boilercut.persist as P, boilercut.model as M, boilercut.context_stage as CS, boilercut.site_stage as SS
import boilercut.block_logistic as BL
from boilercut.configs import CONF_DIR
totals = collections.defaultdict(lambda: [0.0, 0.0, 0])
def timed(owner, name, label=None):
    fn = getattr(owner, name)
    @functools.wraps(fn)
    def wrapper(*a, **k):
        lab = label(a) if callable(label) else (label or name)
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            dt, dc = time.perf_counter() - t, time.process_time() - c
            key = lab
            totals[key][0] += dt; totals[key][1] += dc; totals[key][2] += 1
    setattr(owner, name, wrapper)
timed(T, "load_splits")
timed(D, "load_records"); timed(D, "validate_records"); timed(D, "split_by_page")
timed(TR, "make_line_table")
part = lambda a: f"{type(a[0].transformer).__name__ if type(a[0].transformer).__name__!='Pipeline' else 'shape'}"
timed(F.Neighbours, "fit", lambda a: "features: fit " + part(a))
timed(F.Neighbours, "fit_transform", lambda a: "features: fit_transform " + part(a))
timed(F.Neighbours, "transform", lambda a: "features: transform " + part(a))
timed(BL, "fit_softmax", "solver (fit_softmax)")
timed(BL.BlockRows, "split", "solver: BlockRows.split")
timed(TR, "_proba_in", "held-out fold scoring")
timed(CS.ContextStage, "fit", "context stage fit")
timed(CS.ContextStage, "predict_proba", "context stage predict (site stage input)")
timed(SS.SiteStage, "fit", "site stage fit")
timed(TR, "records_repeats", "site repeats (records_repeats)")
timed(T, "score_records", "score_records (validation/test)")
timed(T, "pick_threshold"); timed(T, "fit_operating_points"); timed(T, "evaluate_scored")
timed(T, "save_model"); timed(T, "file_fingerprint")
timed(TR, "line_weights")
timed(T, "fit_models")
t_imp, c_imp = time.perf_counter() - t_start, time.process_time() - c_start
with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
    cfg = compose("train", overrides=["output.model_path=/tmp/boilercut-train-profile.joblib", "output.report=false",
                                      "fit.n_jobs=1", *sys.argv[1:]])
t0, c0 = time.perf_counter(), time.process_time()
T.train(cfg)
tt, ct = time.perf_counter() - t0, time.process_time() - c0
print(f"{'part':55s} {'wall':>7s} {'cpu':>7s} calls")
print(f"{'imports (hydra, boilercut.train, sklearn...)':55s} {t_imp:7.2f} {c_imp:7.2f}")
for k, (w, c, n) in totals.items():
    print(f"{k:55s} {w:7.2f} {c:7.2f} {n}")
print(f"{'train() total':55s} {tt:7.2f} {ct:7.2f}")
