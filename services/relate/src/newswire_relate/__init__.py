"""Newswire relate: the article read model, related articles and stories."""
