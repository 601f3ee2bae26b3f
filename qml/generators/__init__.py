"""Circuit generators: models that emit circuits (KetGPT in :mod:`.ketgpt`; the LLM circuit
generator joins beside it) and the verifier of any folder of circuits (:mod:`.verify`).

Shared by every generator: the QASM tokenizer (:mod:`.tokenizer`), GPT-2 language models trained
from scratch with chunking and ``<eos>`` (:mod:`.lm`), the ``circuit-lm`` task that trains them
through the shared trainer with checkpoint and resume (:mod:`.lm_task`), sampling with
temperature and top-k (:mod:`.sampling`) and QASM text helpers (:mod:`.qasm_text`). Importing
this package registers the models and the task and imports neither ``transformers`` nor
``mqt.bench`` (they are imported when used).
"""

from . import ketgpt as _ketgpt  # noqa: F401  (registers the ketgpt model)
from . import lm_task as _lm_task  # noqa: F401  (registers the circuit-lm task)
from .llm import sft as _llm_sft  # noqa: F401  (registers the llm-circuits task and model)
from .lm import LM_SIZES, CircuitLM, chunk, make_lm
from .qasm_text import gate_sequence, header, parse
from .sampling import sample_tokens
from .tokenizer import QasmTokenizer, train_tokenizer

__all__ = [
    "LM_SIZES",
    "CircuitLM",
    "QasmTokenizer",
    "chunk",
    "gate_sequence",
    "header",
    "make_lm",
    "parse",
    "sample_tokens",
    "train_tokenizer",
]
