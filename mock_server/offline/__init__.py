"""Helpers for the offline teaching model (see ``mock_server.offline_model``).

Each module handles one concern, so a learner can read them one at a time:

* ``text``        - reading the tagged prompt, cleaning untrusted text, lexicon matching
* ``sentiment``   - positive / neutral / negative with negation, intensity and sarcasm cues
* ``classify``    - inquiry type (technical, billing, shipping, product, account, general)
* ``extract``     - customer name, order id, product, urgency, the main issue and a subject
* ``facts``       - runs all of the above once per message (``Facts``)
* ``decisions``   - account analysis, escalation, response context, follow-up plan
* ``writing``     - the quality rubric, replies, regeneration, personalisation, small talk
* ``schema_fill`` - turning all of the above into JSON that matches any JSON schema
"""
