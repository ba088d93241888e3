#!/usr/bin/env python3
"""The GPU check proper, started by scripts/gpu/run.sh after unpacking (stdlib only, plus
numpy for the fallback audio; Python 3.9+).

Stages, each under a time budget (the whole run ends within GPU_CHECK_BUDGET_S, default 330 s,
counted from the start of run.sh; default 300 s):
  1. probe: GPU, Vulkan, and `rote doctor --json` with the carried Node: the CUDA provider
     that run.sh placed from the carried bundle (npm package pinned in src/setup/cuda.ts), the
     CUDA 13 / cuDNN 9 libraries rote found on its own (PyTorch's nvidia wheels, toolkits,
     the loader path) and a tiny model on each provider;
  2. model: scripts/gpu/build_conformer.py with this machine's PyTorch (~121M parameters);
  3. canaries: `rote generate` with the carried Node (espeak-ng wasm, resample speed-up);
  4. `rote transcribe --provider P --json` runs: cuda and webgpu each first on 200 canaries,
     then on as many as that run's rate says fit the budget (all 2000 when they fit; the
     CUDA run is a short one that records rote's message when the libraries are missing);
     cpu (the baseline) on a seeded random 400; auto on 64 (which provider auto picks, and
     why the others did not run); time permitting, the best GPU run again with 4x batches;
  5. the table: provider, utterances, wall s, utt/s, RTFx, session.run share, notes;
     gpu-check.json and gpu-check.md in --out (with gpu-check.log from run.sh).
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

CUDA_LIBRARIES = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"]


def log(message):
    print(f"[gpu-check] {message}", flush=True)


class Budget:
    def __init__(self, total, already):
        self.deadline = time.monotonic() + total - already

    def left(self):
        return self.deadline - time.monotonic()

    def cap(self, wanted, reserve=0.0):
        """Seconds a stage may take: `wanted`, but leave `reserve` for the stages after it."""
        return max(5.0, min(wanted, self.left() - reserve))


def run(cmd, timeout, env=None, cwd=None):
    """Runs a command in its own process group; on timeout the whole group is killed."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        stdout, stderr = process.communicate()
        timed_out = True
    return {"rc": process.returncode, "stdout": stdout, "stderr": stderr, "seconds": time.monotonic() - started,
            "timed_out": timed_out}


def tail(text, lines=15):
    return "\n".join((text or "").rstrip().splitlines()[-lines:])


# ---------------------------------------------------------------- 1. probe

def probe(work, python, budget):
    facts = {"cores": os.cpu_count()}
    smi = shutil.which("nvidia-smi")
    if smi:
        r = run([smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], 20)
        facts["gpu"] = r["stdout"].strip() or tail(r["stderr"], 3)
    else:
        facts["gpu"] = None
    log(f"GPU: {facts['gpu'] or 'none (no nvidia-smi)'}; {facts['cores']} cores")
    r = run(["ldconfig", "-p"], 20)
    facts["libvulkan"] = [line.strip() for line in r["stdout"].splitlines() if "libvulkan.so" in line]
    facts["VK_DRIVER_FILES"] = os.environ.get("VK_DRIVER_FILES")

    ort_dir = os.path.join(work, "node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64")
    cuda = {"installed": all(os.path.isfile(os.path.join(ort_dir, n)) for n in CUDA_LIBRARIES), "reason": None}
    if not cuda["installed"]:
        cuda["reason"] = ("the CUDA provider was not carried (scripts/gpu/check.sh pack-cuda, then one "
                          "`receive` call per part before `run`)")
    node = os.path.join(work, "node", "bin", "node")
    r = run([node, "bin/rote.js", "doctor", "--json"], budget.cap(60, 240), cwd=work)
    try:
        doctor = json.loads(r["stdout"])
        facts["doctor"] = {k: doctor.get(k) for k in ("onnxruntime", "cudaProvider", "cuda", "providers", "advice")}
        for line in doctor.get("advice", []):
            log(f"doctor: {line}")
        for lib in (doctor.get("cuda") or {}).get("libraries", []) + [(doctor.get("cuda") or {}).get("driver") or {}]:
            if lib:
                log(f"doctor: {'found  ' if lib.get('path') else 'missing'} {lib.get('name')} {lib.get('path') or ''} ({lib.get('source')})")
    except ValueError:
        facts["doctor"] = {"error": f"rc {r['rc']}: {tail(r['stderr'], 5)}"}
        log(f"rote doctor failed: {facts['doctor']['error']}")
    # Libraries rote did not find: where are they on this disk? (A gap in rote's search, recorded;
    # the CUDA runs then get ROTE_CUDA_LIBRARY_PATH so the measurement still happens.)
    missing = [lib.get("name") for lib in ((facts.get("doctor") or {}).get("cuda") or {}).get("libraries", []) if not lib.get("path")]
    if cuda["installed"] and missing:
        prune = []
        for p in ["/proc", "/sys", "/dev", "/run", work]:
            prune += ["-path", p, "-prune", "-o"]
        names = []
        for name in missing:
            names += (["-o"] if names else []) + ["-name", name]
        r = run(["find", "/"] + prune + ["("] + names + [")", "-print"], budget.cap(30, 240))
        found = sorted({p for p in r["stdout"].split("\n") if p.strip()})
        cuda["missed_by_rote"] = {"libraries": missing, "found_on_disk": found, "timed_out": r["timed_out"]}
        cuda["extra_library_path"] = ":".join(sorted({os.path.dirname(p) for p in found}))
        log(f"rote did not find {missing}; on disk: {found or 'nowhere'}")
    facts["cuda_provider"] = cuda
    return facts


# ---------------------------------------------------------------- 2. model

def build_model(repo, work, python, small, budget):
    out_dir = os.path.join(work, "model")
    cmd = [python, os.path.join(repo, "scripts", "gpu", "build_conformer.py"), "--out", out_dir] + (["--small"] if small else [])
    log("building the model: " + " ".join(cmd))
    r = run(cmd, budget.cap(300, 150), env=dict(os.environ, PYTHONUNBUFFERED="1"))
    for line in r["stdout"].splitlines():
        if line.startswith("[build-model]"):
            print(line, flush=True)
    if r["rc"] != 0:
        raise SystemExit(f"model build failed (rc {r['rc']}, timed out: {r['timed_out']}):\n{tail(r['stderr'], 30)}")
    with open(os.path.join(out_dir, "model-card.json")) as f:
        card = json.load(f)
    card["build_seconds"] = round(r["seconds"], 1)
    return out_dir, card


# ---------------------------------------------------------------- 3. canaries

def generate_canaries(work, node, count, budget):
    """`rote generate` with the carried Node: count = holdout + 5 groups x per_group."""
    per_group = max(1, count // 10)
    holdout = count - 5 * per_group
    out_dir = os.path.join(work, "canaries")
    cmd = [node, "bin/rote.js", "generate", "--out", out_dir, "--seed", "gpu-check", "--holdout", str(holdout),
           "--per-group", str(per_group), "--repetitions", "1,2,4,8,16", "--speed-method", "resample", "--force", "--json"]
    log("synthesizing canaries: " + " ".join(cmd[1:]))
    r = run(cmd, budget.cap(150, 120), cwd=work)
    if r["rc"] != 0:
        return None, {"error": f"rote generate failed (rc {r['rc']}, timed out: {r['timed_out']}): {tail(r['stderr'], 8)}"}
    summary = json.loads(r["stdout"])
    with open(os.path.join(out_dir, "canary-set.json")) as f:
        canary_set = json.load(f)
    items = [(c["id"], os.path.join(out_dir, c["audio"]), c["text"], c["durationSec"]) for c in canary_set["canaries"]]
    info = {"source": "rote generate", "seconds": round(r["seconds"], 1), "canaries": len(items),
            "audioSec": summary.get("audioSeconds"), "speed": summary.get("speed"), "speedMethod": summary.get("speedMethod"),
            "sampleRate": summary.get("sampleRate"), "warnings": summary.get("warnings")}
    log(f"canaries: {len(items)} in {r['seconds']:.1f} s, {info['audioSec']} s of audio")
    return items, info


def fallback_audio(work, count, seed=7):
    """Only when `rote generate` failed: noise bursts of canary-like durations (NOT speech)."""
    import wave

    import numpy as np
    rng = np.random.default_rng(seed)
    out_dir = os.path.join(work, "fallback-audio")
    os.makedirs(out_dir, exist_ok=True)
    items = []
    for i in range(count):
        seconds = float(rng.uniform(0.9, 2.4))
        n = int(seconds * 16000)
        envelope = np.abs(np.sin(np.linspace(0, np.pi * rng.integers(3, 9), n)))
        samples = (0.2 * envelope * rng.standard_normal(n)).clip(-1, 1)
        path = os.path.join(out_dir, f"noise-{i:05d}.wav")
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((samples * 32767).astype("<i2").tobytes())
        items.append((f"noise-{i:05d}", path, None, n / 16000))
    return items, {"source": "numpy noise bursts (rote generate failed; NOT speech)", "canaries": count,
                   "audioSec": round(sum(i[3] for i in items), 2)}


# ---------------------------------------------------------------- 4. transcribe

def write_list(path, items):
    with open(path, "w", encoding="utf-8") as f:
        for item_id, wav, text, _ in items:
            f.write(f"{item_id}\t{wav}\t{text}\n" if text else f"{item_id}\t{wav}\n")


def transcribe(work, node, model_dir, provider, items, timeout, env, extra):
    tag = f"{provider}-{len(items)}"
    list_path = os.path.join(work, f"list-{tag}.tsv")
    rows_path = os.path.join(work, f"rows-{tag}.jsonl")
    write_list(list_path, items)
    cmd = [node, "bin/rote.js", "transcribe", "--model", model_dir, "--list", list_path, "--out", rows_path,
           "--provider", provider, "--json"] + extra
    log(f"transcribe --provider {provider}: {len(items)} utterances, limit {timeout:.0f} s")
    r = run(cmd, timeout, env=env, cwd=work)
    result = {"provider_requested": provider, "utterances_requested": len(items),
              "audioSec_requested": round(sum(i[3] for i in items), 2), "process_seconds": round(r["seconds"], 2),
              "rc": r["rc"], "timed_out": r["timed_out"], "command": " ".join(cmd[1:])}
    if r["stderr"].strip():
        print(f"--- stderr of transcribe --provider {provider} (last lines):\n{tail(r['stderr'], 12)}", flush=True)
    summary = None
    if r["rc"] == 0:
        try:
            summary = json.loads(r["stdout"])
        except ValueError:
            result["error"] = "rote transcribe --json printed no JSON summary: " + tail(r["stdout"], 3)
    elif r["timed_out"]:
        result["error"] = f"killed after {timeout:.0f} s (time budget)"
    else:
        rote_lines = [line for line in r["stderr"].splitlines() if line.startswith("rote: ")]
        message = rote_lines[-1][len("rote: "):] if rote_lines else tail(r["stderr"], 4).replace("\n", " ")
        result["error"] = message[-800:] or f"rc {r['rc']}"
    if summary is not None:
        result["summary"] = summary
        try:
            with open(rows_path) as f:
                rows = [json.loads(line) for line in f if line.strip()]
            result["rows_written"] = len(rows)
            result["sample_rows"] = [{k: row.get(k) for k in ("id", "hypothesis", "durationSec", "frames", "referenceScore")}
                                     for row in rows[:3]]
        except OSError as error:
            result["error"] = f"no rows file: {error}"
    return result


def row_for(result):
    s = result.get("summary")
    provider = result["provider_requested"]
    if s is None:
        return {"provider": provider, "utterances": "-", "wall": "-", "uttps": "-", "rtfx": "-", "share": "-",
                "notes": "unavailable: " + result.get("error", "?").split(". Fix:")[0]}
    report = s.get("provider") or {}
    used = report.get("used", "?")
    not_used = [f"{t['name']}: {t['error']}" for t in report.get("tried", []) if t.get("error")]
    notes = [f"ran on {used}"]
    if not_used:
        notes.append("not used: " + "; ".join(not_used))
    notes.append(f"load {s.get('loadSec', 0):.1f} s, process {result['process_seconds']:.1f} s, "
                 f"{s.get('audioSec', 0):.0f} s audio, {s.get('sessionRuns', '?')} runs")
    if s.get("skipped"):
        notes.append(f"skipped {len(s['skipped'])}")
    name = provider if used == provider else f"{provider} -> {used}"
    return {"provider": name, "utterances": s.get("utterances"), "wall": f"{s.get('wallSec', 0):.2f}",
            "uttps": f"{s.get('utterancesPerSec', 0):.1f}", "rtfx": f"{s.get('rtfx', 0):.1f}",
            "share": f"{100 * s.get('sessionRunShare', 0):.0f}%", "notes": "; ".join(notes)}


def parity_summary(p):
    if not p:
        return "not run"
    if "skipped" in p or "error" in p:
        return p.get("skipped") or p.get("error")
    return f"{p['identical']} of {p['utterances']} identical ({p['provider']}, ran on {p['ran_on']}, vs cpu)"


def table(rows):
    head = ["provider", "utterances", "wall s", "utt/s", "RTFx", "session.run share", "notes"]
    keys = ["provider", "utterances", "wall", "uttps", "rtfx", "share", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(row[k]).replace("|", "/") for k in keys) + " |")
    return "\n".join(lines)


def parity(work, node, model_dir, provider, items, budget, env):
    """The same utterances through models/baseline on `provider` and on the CPU: hypotheses compared."""
    rows = {}
    for p in (provider, "cpu"):
        tag = f"parity-{p}"
        list_path = os.path.join(work, f"list-{tag}.tsv")
        rows_path = os.path.join(work, f"rows-{tag}.jsonl")
        write_list(list_path, items)
        cmd = [node, "bin/rote.js", "transcribe", "--model", model_dir, "--list", list_path, "--out", rows_path,
               "--provider", p, "--json"]
        r = run(cmd, budget.cap(60, 5), env=env, cwd=work)
        if r["rc"] != 0:
            return {"provider": provider, "error": f"{p}: rc {r['rc']}: {tail(r['stderr'], 3)}"}
        used = (json.loads(r["stdout"]).get("provider") or {}).get("used")
        with open(rows_path) as f:
            rows[p] = {row["id"]: row.get("hypothesis") for row in map(json.loads, filter(str.strip, f))}
        rows[p + ":used"] = used
    same = [i for i in rows["cpu"] if rows[provider].get(i) == rows["cpu"][i]]
    differ = [{"id": i, provider: rows[provider].get(i), "cpu": rows["cpu"][i]} for i in rows["cpu"] if i not in same]
    return {"model": "models/baseline", "provider": provider, "ran_on": rows[provider + ":used"], "utterances": len(rows["cpu"]),
            "identical": len(same), "differ": differ[:10]}


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--elapsed", type=float, default=0.0, help="seconds run.sh already spent")
    opts = parser.parse_args()
    small = os.environ.get("GPU_CHECK_SMALL") == "1"
    budget_total = float(os.environ.get("GPU_CHECK_BUDGET_S", "300"))
    canary_count = int(os.environ.get("GPU_CHECK_CANARIES", "40" if small else "2000"))
    cpu_count = int(os.environ.get("GPU_CHECK_CPU_UTTERANCES", "20" if small else "400"))
    auto_count = int(os.environ.get("GPU_CHECK_AUTO_UTTERANCES", "8" if small else "64"))
    probe_count = int(os.environ.get("GPU_CHECK_FIRST_UTTERANCES", "10" if small else "200"))
    parity_count = int(os.environ.get("GPU_CHECK_PARITY_UTTERANCES", "8" if small else "64"))
    threads = os.environ.get("GPU_CHECK_THREADS")
    batch_frames = os.environ.get("GPU_CHECK_BATCH_FRAMES")
    budget = Budget(budget_total, opts.elapsed)
    python = sys.executable
    node = os.path.join(opts.work, "node", "bin", "node")
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "small": small, "budget_s": budget_total}
    rows = []

    def finish(status):
        results["status"] = status
        results["table"] = rows
        results["seconds"] = round(budget_total - budget.left(), 1)
        markdown = ["# rote GPU check", "", f"{results['date']}; GPU: {results.get('probe', {}).get('gpu')}; "
                    f"{results.get('probe', {}).get('cores')} cores; model: {results.get('model_summary', '?')}; "
                    f"audio: {results.get('audio_summary', '?')}", "", table(rows), "",
                    f"transcripts (models/baseline, GPU vs CPU): {parity_summary(results.get('parity'))}", "",
                    f"status: {status}"]
        with open(os.path.join(opts.out, "gpu-check.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(opts.out, "gpu-check.md"), "w") as f:
            f.write("\n".join(markdown) + "\n")
        print("\n" + "\n".join(markdown), flush=True)

    try:
        results["probe"] = probe(opts.work, python, budget)
        model_dir, card = build_model(opts.repo, opts.work, python, small, budget)
        results["model"] = card
        shutil.copy2(os.path.join(model_dir, "model-card.json"), os.path.join(opts.out, "model-card.json"))
        results["model_summary"] = (f"random-weight Conformer-CTC, {card['parameters'] / 1e6:.1f}M parameters, "
                                    f"{card['config']['layers']} blocks, d_model {card['config']['d_model']}, "
                                    f"{card['onnx_bytes'] / 2**20:.0f} MiB ONNX ({card['exporter']} exporter, torch {card['torch']})")

        items, audio = generate_canaries(opts.work, node, canary_count, budget)
        if items is None:
            log(audio["error"])
            items, fallback = fallback_audio(opts.work, canary_count)
            audio = dict(fallback, generate_error=audio["error"])
        results["audio"] = audio
        results["audio_summary"] = f"{len(items)} utterances from {audio['source']}, {audio.get('audioSec')} s in all"

        extra = []
        if threads:
            extra += ["--threads", threads]
        if batch_frames:
            extra += ["--batch-frames", batch_frames]
        shuffled = list(items)
        random.Random(1).shuffle(shuffled)  # subsets with the same length distribution as the whole set
        gpu_env = dict(os.environ)  # rote finds the CUDA libraries itself (bin/rote.js re-exec)
        extra_path = results["probe"]["cuda_provider"].get("extra_library_path")
        if extra_path:  # only where rote's own search missed them (recorded in the probe facts)
            gpu_env["ROTE_CUDA_LIBRARY_PATH"] = extra_path
            log(f"CUDA runs with ROTE_CUDA_LIBRARY_PATH={extra_path} (rote's search missed them: see probe.cuda_provider)")
        results["runs"] = []
        cuda_ready = results["probe"]["cuda_provider"]["installed"]

        def attempt(provider, subset, cap, label=None, args=None):
            if budget.left() < 15:
                rows.append({"provider": label or provider, "utterances": "-", "wall": "-", "uttps": "-", "rtfx": "-",
                             "share": "-", "notes": "not run: time budget spent"})
                return None
            result = transcribe(opts.work, node, model_dir, provider, subset, cap, gpu_env, extra if args is None else args)
            if label:
                result["label"] = label
            if provider == "cuda" and not cuda_ready:
                result["note"] = results["probe"]["cuda_provider"]["reason"]
            results["runs"].append(result)
            row = row_for(result)
            if label:
                row["provider"] = label if row["provider"] == provider else row["provider"].replace(provider, label, 1)
            if provider == "cuda" and "note" in result and row["notes"].startswith("unavailable"):
                said = result.get("error", "?").split(". Fix:")[0]
                row["notes"] = f"unavailable: {result['note']}; rote said: {said}"
            if len(subset) < len(items) and result.get("summary"):
                row["notes"] += f"; a seeded random {len(subset)} of the {len(items)}"
            rows.append(row)
            log(f"{label or provider}: {row['notes'] if row['utterances'] == '-' else row}")
            return result

        def ran_on(result, provider):
            return bool(result) and (result.get("summary") or {}).get("provider", {}).get("used") == provider

        def gpu(provider, reserve):
            """A first run on a small subset; then as many utterances as its rate says fit the budget."""
            first_n = min(len(items), probe_count)
            first = attempt(provider, shuffled[:first_n], budget.cap(90, reserve), label=f"{provider} (first {first_n})")
            if not ran_on(first, provider) or first_n == len(items):
                return None
            s = first["summary"]
            overhead = first["process_seconds"] - s["wallSec"]  # node start, model load, session creation
            allowed = budget.cap(180, reserve)
            fit = int((allowed - overhead - 10) * s["utterancesPerSec"] * 0.8)
            n = min(len(items), fit)
            if n <= first_n:
                log(f"{provider}: no time for a larger run ({allowed:.0f} s left for it, {s['utterancesPerSec']:.1f} utt/s)")
                return first
            return attempt(provider, items if n == len(items) else shuffled[:n], allowed) or first

        best = None
        if cuda_ready:
            best = gpu("cuda", 200)
        else:  # one short run: rote's own message for the missing provider
            attempt("cuda", shuffled[:auto_count], budget.cap(60, 200))
        webgpu_result = gpu("webgpu", 80)
        if best is None or not ran_on(best, "cuda"):
            best = webgpu_result
        # Dry runs on a machine without a GPU: GPU_CHECK_EXERCISE=cpu walks the GPU code path on the CPU.
        for provider in [p for p in os.environ.get("GPU_CHECK_EXERCISE", "").split(",") if p]:
            exercised = gpu(provider, 40)
            if best is None or not ran_on(best, best["provider_requested"]):
                best = exercised
        attempt("cpu", shuffled[:cpu_count], budget.cap(120, 25), label="cpu (baseline)")
        attempt("auto", shuffled[:auto_count], budget.cap(45, 0))
        # Time permitting: the best GPU run again with 4x larger batches.
        if best is not None and ran_on(best, best["provider_requested"]) and budget.left() > 60:
            frames = str(4 * int(best["summary"].get("batchFrames") or 10000))
            args = [a for a in extra if a not in ("--batch-frames", batch_frames)] + ["--batch-frames", frames]
            subset = shuffled[: best["summary"]["utterances"]] if best["summary"]["utterances"] < len(items) else items
            attempt(best["provider_requested"], subset, budget.cap(120, 5),
                    label=f"{best['provider_requested']} --batch-frames {frames}", args=args)
        # Transcripts: the shipped models/baseline on the GPU provider that ran vs the CPU.
        shipped = os.path.join(opts.work, "shipped-models", "baseline")
        if not os.path.isfile(os.path.join(shipped, "model.onnx")):
            results["parity"] = {"skipped": "models/baseline not carried (it travels in the CUDA bundle)"}
        elif best is None or not ran_on(best, best["provider_requested"]):
            results["parity"] = {"skipped": "no GPU provider ran"}
        elif budget.left() < 30:
            results["parity"] = {"skipped": "time budget spent"}
        else:
            results["parity"] = parity(opts.work, node, shipped, best["provider_requested"], shuffled[:parity_count], budget, gpu_env)
        log(f"transcripts: {results['parity']}")
        finish("ok")
    except SystemExit as error:
        finish(f"failed: {error}")
        return 1
    except Exception as error:  # noqa: BLE001 - the table and JSON must come back whatever broke
        import traceback
        traceback.print_exc()
        finish(f"failed: {type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
