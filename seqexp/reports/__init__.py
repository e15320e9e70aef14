"""What a run writes besides its metrics. Modules:

curves   the training curves as PNGs (loss.png and one per metric), redrawn as training goes
insight  a look inside a trained image classifier (HG 8-3): filters, feature maps, confusion matrix
samples  samples.txt of a next-word run: continuations of the configured prompts (WD 11-2)
"""
