"""CT-CHAT in its own environment (``env check ct_chat``): the adapter's default loader
(``ct_chat.load_ct_chat``) through the worker, under the pinned transformers, on stand-ins of
CT-CLIP's ``CTViT`` and CT-CHAT's ``llava`` (tests/support/ct_chat_standins.py says what they
keep of the authors' code; neither package is on PyPI) and a tiny checkpoint built there.

Expected: the prompt by hand from the authors' llama3 conversation (llava/conversation.py's
system prompt, roles and ``<|eot_id|>``; the web server's first turn as ``get_prompt`` rebuilds
it), and the answer as the authors' validation script computes it
(llava/serve/ctchat_validation_llama.py: ``tokenizer_image_token``, ``model.generate(input_ids,
images=features, image_sizes=..., do_sample=False, max_new_tokens=512, use_cache=True)``), run
in a separate process of that environment without the adapter; cut at the first ``<|eot_id|>``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_in_env import ENV_MODEL, ENV_PYTHON, in_env

from ct_spatial_bench.inference.backends.worker import RemoteAdapter
from ct_spatial_bench.models.adapters.ct_chat import SYSTEM_PROMPT
from ct_spatial_bench.models.base import Question

pytestmark = pytest.mark.skipif(ENV_MODEL != "ct_chat", reason="CT-CHAT's environment only")
TESTS = str(Path(__file__).resolve().parents[1])
QUESTION = "which side"

BUILD = f"""
import json, sys
from pathlib import Path
sys.path.insert(0, {TESTS!r})
from support.ct_chat_standins import write_ct_chat
print(json.dumps(write_ct_chat(Path(sys.argv[1]))))
"""

AUTHORS_FLOW = """
import json, sys
import numpy as np, torch
settings, volume_file, prompt = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path[:0] = [settings["code_dir"], settings["ctvit_code_dir"]]
from transformer_maskgit import CTViT
from llava.model.builder import load_pretrained_model

ctvit = CTViT(dim=512, codebook_size=8192, image_size=480, patch_size=20, temporal_patch_size=10,
              spatial_depth=4, temporal_depth=4, dim_head=32, heads=8)
ctvit.load(settings["encoder_path"])
tokenizer, model, _, _ = load_pretrained_model(settings["model_path"], None, "ct-chat",
                                               device="cpu")
model = model.float().eval()
with torch.no_grad():
    features = ctvit(torch.from_numpy(np.load(volume_file))[None, None],
                     return_encoded_tokens=True)
before, after = prompt.split("<image>")  # tokenizer_image_token; this tokenizer adds no BOS
ids = tokenizer(before).input_ids + [-200] + tokenizer(after).input_ids
out = model.generate(torch.tensor([ids]), images=features, image_sizes=[features.numel()],
                     do_sample=False, max_new_tokens=512, use_cache=True)[0].tolist()
eot = tokenizer.convert_tokens_to_ids("<|eot_id|>")
out = out[:out.index(eot)] if eot in out else out
print(json.dumps([tokenizer.decode(out, skip_special_tokens=True).strip(), len(out)]))
"""


def test_ct_chat_loads_the_code_folders_and_answers_as_the_authors_flow(tmp_path):
    settings = json.loads(in_env(BUILD, str(tmp_path)).strip().splitlines()[-1])
    # -1..1 as the input spec gives it, (slices, H, W): 2 x 2 x 2 CTViT patches of 10 x 20 x 20
    volume = np.random.default_rng(0).uniform(-1, 1, (20, 40, 40)).astype(np.float32)
    np.save(tmp_path / "volume.npy", volume)
    adapter = RemoteAdapter("ct_chat", "ct_chat", ENV_PYTHON)
    try:
        adapter.load({**settings, "device": "cpu", "dtype": "float32"})
        [answer] = adapter.answer_volume(volume, [Question("q0", QUESTION)])
    finally:
        adapter.close()

    assert answer.prompt == (SYSTEM_PROMPT + "<|eot_id|><|start_header_id|>user<|end_header_id|>"
                             "\n\n<image>\n<provided>which side <short_answer><|eot_id|>"
                             "<|start_header_id|>assistant<|end_header_id|>\n\n")
    text, tokens = json.loads(in_env(AUTHORS_FLOW, json.dumps(settings),
                                     str(tmp_path / "volume.npy"), answer.prompt).splitlines()[-1])
    assert tokens > 0 and answer.text == text
