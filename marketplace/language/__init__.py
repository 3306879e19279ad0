"""The customer's own words, understood by a small local model (offline, CPU, no downloads).

- `feedback`: a rating's free text becomes complaint tags with confidences (only tags go on-chain);
- `criteria_text`: a sentence ("a quiet electric car in Tampere, no smokers, at least 4 stars")
  becomes a criteria draft, with the phrase behind each field and the words it could not place;
- `model`: the static-embedding model (wordllama), loaded once per process and lazily;
- `corpus`: the labelled texts the classifier learns from and the benchmark measures on.

No web3, Flask or database here: callers (the web app, the benchmark) pass text in and get
plain data back.
"""

from marketplace.language.errors import InvalidText

__all__ = ["InvalidText"]
