"""Kokoro-82M, the offline narrator voice: engine, voice packs, phonemizer and model files.

Kept free of imports so that the registry and `models` can name this package cheaply; the
engine lives in `engine`, and onnxruntime is imported only when a session opens.
"""
