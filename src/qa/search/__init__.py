"""A question against one generation: legs, fusion, rerank, sentences, filters."""
