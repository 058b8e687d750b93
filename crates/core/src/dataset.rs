//! Dataset rows: the airflow-net ChatML JSONL format (`{"messages": [...], "metadata": {...}}`).
