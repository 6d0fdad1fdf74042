"""``python -m mdmsched.adapters.lm_eval_cli ARGS``: lm-eval's own command line (``lm_eval ARGS``) with the ``mdmsched``
model registered first. lm-eval 0.4.13 discovers no external models by itself (no entry points for models;
``--include_path`` is for tasks), so ``lm_eval --model mdmsched`` alone does not find it::

    python -m mdmsched.adapters.lm_eval_cli run --model mdmsched \\
        --model_args pretrained=GSAI-ML/LLaDA-8B-Instruct,mask_id=126336,gen_length=256,block_length=32,rule=top_k,steps=64 \\
        --tasks gsm8k --apply_chat_template --output_path out/
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Register ``mdmsched`` with lm-eval, then run lm-eval's command line on ``sys.argv``."""
    from lm_eval.__main__ import cli_evaluate

    from . import lm_eval  # noqa: F401  registers the model

    cli_evaluate()


if __name__ == "__main__":
    main()
