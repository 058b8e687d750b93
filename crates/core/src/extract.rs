//! Taking Python code out of LLM answers (markdown fences and surrounding prose).
