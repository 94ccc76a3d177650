"""Proof-listening: a local speech recogniser listens to each chapter's render and checks that
every word of the script was heard, in order (`proofer`); the words' times in the chapter's
audio come with it (`timings`), for captions and read-along."""
