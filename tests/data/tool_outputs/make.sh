#!/usr/bin/env bash
# Writes this folder's response files with the tools themselves: lm-evaluation-harness, evalscope
# and the released O1-Pruner inference script, on the R1 config's rehearsal model (made and
# trained by the workflow, with DeepSeek-R1-Distill-Qwen's real tokenizer and chat template) and
# its 16 training problems (MATH). Needs the network (PyPI, GitHub), ../shared (the tokenizer and
# the data) and the set-up of scripts/setup.sh --vllm; the tests read the files it wrote and
# never run it. Usage: bash tests/data/tool_outputs/make.sh
# (O1_PRUNER_REPO: a local clone of StarDewXXX/O1-Pruner to use instead of GitHub's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
system_prompt='Please reason step by step, and put your final answer within \boxed{}.'

cd "$repo"
.venv/bin/snakemake --cores all rehearsal_reference \
  --configfile config/r1_distill_qwen.yaml config/rehearsal.yaml
model="$repo/$(.venv/bin/python -c 'from o1pruner import rehearsal; from o1pruner.config.load import load_config
print(rehearsal.rehearse(load_config("config/r1_distill_qwen.yaml", "config/rehearsal.yaml"))[0]["model"]["path"])')"
cp results/data/math/train.jsonl "$here/math_train_16.jsonl"

# lm-evaluation-harness, its transformers backend, in an environment of its own.
python3 -m venv "$work/lm-eval"
"$work/lm-eval/bin/pip" install -q torch==2.13.0
"$work/lm-eval/bin/pip" install -q lm-eval==0.4.13 transformers==5.25.0 accelerate==1.16.0
mkdir -p "$work/tasks"
cp "$here/lm_eval_task.yaml" "$work/tasks/"
cp "$work"/lm-eval/lib/python3*/site-packages/lm_eval/tasks/aime/utils.py "$work/tasks/"
cp "$here/math_train_16.jsonl" "$work/"
(cd "$work" && HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 "$work/lm-eval/bin/lm_eval" --model hf \
  --model_args "pretrained=$model,dtype=bfloat16" --tasks math_train_presample --include_path tasks \
  --apply_chat_template --system_instruction "$system_prompt" --log_samples --output_path out \
  --seed 0 --device cpu --batch_size 16)
cp "$work"/out/*/samples_math_train_presample_*.jsonl "$here/lm_eval_samples_math_train_presample.jsonl"

# evalscope, its local-checkpoint backend, in an environment of its own: its MATH-500 benchmark
# (prompt template, answer check) on the same problems, given in MATH-500's fields.
python3 -m venv "$work/evalscope"
"$work/evalscope/bin/pip" install -q torch==2.13.0
"$work/evalscope/bin/pip" install -q evalscope==1.14.1 transformers==5.25.0 accelerate==1.16.0
mkdir -p "$work/math_500"
python3 - "$here/math_train_16.jsonl" "$work/math_500/default_test.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as out:
    for r in map(json.loads, open(sys.argv[1])):
        fields = {"problem": r["problem"], "answer": r["answer"], "level": r["level"], "unique_id": r["id"]}
        out.write(json.dumps({**fields, "solution": r["solution"], "subject": r["subject"]}) + "\n")
PY
HF_HUB_OFFLINE=1 MODELSCOPE_OFFLINE=1 "$work/evalscope/bin/evalscope" eval --model "$model" --eval-type llm_ckpt \
  --datasets math_500 --dataset-args "{\"math_500\": {\"dataset_id\": \"$work/math_500\"}}" \
  --generation-config '{"do_sample": true, "temperature": 0.6, "top_p": 0.95, "max_tokens": 48}' \
  --repeats 4 --work-dir "$work/evalscope-out" --no-timestamp --seed 0 \
  --model-args '{"device_map": "cpu", "precision": "torch.bfloat16"}'
cat "$work"/evalscope-out/reviews/*/math_500_Level*.jsonl > "$here/evalscope_reviews_math_500.jsonl"

# O1-Pruner's o1_scripts/inference.py as released (0216dea), on vLLM's CPU build. As released it
# does not start: it imports `get_example`, which no version of o1_scripts/utils.py defines, and
# calls `extract_answer(output, model_path)`, the two-argument form of the earlier utils.py
# (7c24a33). Both are put right here; nothing else changes. Its data file is its own format
# (problem, ground_truth_answer, ground_truth_solution), holding the same 16 problems.
git clone -q --no-checkout "${O1_PRUNER_REPO:-https://github.com/StarDewXXX/O1-Pruner}" "$work/O1-Pruner"
cd "$work/O1-Pruner"
git checkout -q 0216dea8bed4ba716a32a4ad5a60914b383a66a9 -- o1_scripts
git show 7c24a330ef1292217decab8f02d47f4dc297b61e:o1_scripts/utils.py > o1_scripts/utils.py
sed -i 's/^from utils import extract_answer, get_example$/from utils import extract_answer/' o1_scripts/inference.py
# What its imports need beyond vLLM's environment, beside it (not in it).
"$repo/.venv-vllm/bin/pip" install -q --target "$work/extra" --no-deps \
  datasets==5.2.0 pylatexenc==2.11 dill==0.4.1 multiprocess==0.70.19 xxhash==4.1.0
mkdir -p data/dataset data/model_generated
python3 - "$here/math_train_16.jsonl" data/dataset/math_train_hard.json <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
fields = [{"problem": r["problem"], "ground_truth_answer": r["answer"], "ground_truth_solution": r["solution"]} for r in rows]
json.dump(fields, open(sys.argv[2], "w"))
PY
# The script has no `if __name__ == "__main__"` guard: vLLM's engine runs in this process.
VLLM_ENABLE_V1_MULTIPROCESSING=0 PYTHONPATH="$work/extra:o1_scripts" "$repo/.venv-vllm/bin/python" \
  o1_scripts/inference.py --K 4 --num_samples 16 --dataset math_train_hard --model_name qwq \
  --model_path "$model" --n_gpus 1 --max_tokens 48
out=data/model_generated/qwq_math_train_hard_48_normal_K-4.json
cp "$out" "$here/o1_pruner_qwq_math_train_hard_48_normal_K-4.json"
# Its own grader's verdict on each response (the script counts them but does not save them).
PYTHONPATH="$work/extra:o1_scripts" "$repo/.venv-vllm/bin/python" - "$out" "$here/o1_pruner_grades.json" <<'PY'
import json, sys
from grader import grade_answer
rows = json.load(open(sys.argv[1]))
json.dump([bool(grade_answer(r["answer"], r["ground_truth_answer"])) for r in rows], open(sys.argv[2], "w"))
PY
