"""Marketing copy from a product record, grounded in it.

``slots`` (what a slot is and what comes back), ``records`` (a stored campaign's product and
brand kit as the copywriter reads them), ``prompts`` and ``messages`` (channel instructions,
worked examples, the chat prompt), ``text`` (selling points, composed short lines, fragments),
``gates`` (every rule a delivered text meets), ``dedupe`` (near-duplicates), ``writer`` (the
best-of-N loop: :func:`~workers.copy.writer.write_copy`); the sentence channels: ``facts`` (a
record as facts), ``faithful`` (a sentence says its fact), ``plan``, ``compose`` (a record
clause in a model-chosen frame), ``sentence_examples`` and ``sentences``
(:func:`~workers.copy.sentences.write_planned`).
"""
