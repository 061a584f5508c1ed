#!/usr/bin/env bash
# GPU runner check (issue 12), one command on a machine with an NVIDIA GPU:
#   1. the tests marked `gpu` (the sandboxed kernel sees the GPU, TF32 and cuDNN autotuning off, a warm class on
#      CUDA scores as on the CPU, the Learner on CUDA);
#   2. every assignment's source notebook graded on CUDA (`--gpus all --kernels-per-gpu 2`, warm workers) and on
#      the CPU, same --check-seed: scores side by side, with each one's seconds;
#   3. `ch4grade reproduce --device cuda`: every figure of the chapter against the book.
# Prints the time of each step. Usage: bash benchmarks/gpu_check.sh [OUT_DIR]   (default: gpu-check/)
# Data: $CH4GRADE_MNIST_DIR, else ../shared/data/mnist or ./shared/data/mnist when present, else a download.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-check}"
mkdir -p "$out"
export PATH="$HOME/.local/bin:$PATH" PYTHONUNBUFFERED=1
command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
for d in ../shared/data/mnist shared/data/mnist; do
    if [ -z "${CH4GRADE_MNIST_DIR:-}" ] && [ -d "$d" ]; then export CH4GRADE_MNIST_DIR="$(cd "$d" && pwd)"; fi
done
export FASTAI_HOME="${FASTAI_HOME:-$PWD/.cache/fastai}"
uv sync --frozen --quiet

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
uv run python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'devices', torch.cuda.device_count(), torch.cuda.get_device_name(0))"

t=$(now); uv run ch4grade data --quiet; echo "== data: $(took "$t") s"

t=$(now)
uv run pytest -m gpu -n 0 -p no:cacheprovider -q tests/test_gpu.py tests/test_learner.py | tail -5
echo "== pytest -m gpu: $(took "$t") s"

notebooks=(autograders/assignments/*/*.ipynb)
t=$(now)
uv run ch4grade grade "${notebooks[@]}" --device cuda --gpus all --kernels-per-gpu 2 --check-seed 1 \
    --out "$out/cuda" --format json -q || true
echo "== grade ${#notebooks[@]} source notebooks on CUDA (warm, 2 kernels per GPU): $(took "$t") s"
t=$(now)
uv run ch4grade grade "${notebooks[@]}" --device cpu --jobs 2 --check-seed 1 --out "$out/cpu" --format json -q || true
echo "== grade ${#notebooks[@]} source notebooks on the CPU (warm, --jobs 2): $(took "$t") s"
uv run python - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print(f"{'notebook':<24}{'cuda score':>12}{'cuda s':>9}{'cpu score':>12}{'cpu s':>9}  device")
for f in sorted((out / "cuda").glob("*.json")):
    if f.name.startswith("."):
        continue
    g, c = json.loads(f.read_text()), json.loads((out / "cpu" / f.name).read_text())
    print(f"{f.stem:<24}{g['score']:>8g}/{g['auto_max_score']:<3g}{g['timings'].get('total_s', 0):>9.1f}"
          f"{c['score']:>8g}/{c['auto_max_score']:<3g}{c['timings'].get('total_s', 0):>9.1f}  {g['environment']['device']}"
          + (f"  ERROR {g['error']}" if g.get("error") else ""))
PY

t=$(now)
uv run ch4grade reproduce --device cuda --json "$out/reproduce.json" | tail -40
echo "== ch4grade reproduce --device cuda: $(took "$t") s"
