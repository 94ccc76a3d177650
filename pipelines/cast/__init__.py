"""Who reads what: the narrator (narrator.py), the dialogue, per-chapter voices and voice settings
(voices.py), and the casting modes, characters' voices and speaker corrections (casting.py)."""
