"""The weakly supervised MIL detector (Sultani, Chen and Shah 2018): learns from video-level labels only.

bags.py (videos -> segments), model.py (the scoring head), loss.py (the ranking loss), train.py
(`train_from_items`, registered in detection.registry), detector.py (MILDetector, loaded by
detection.detector_file), config.py (MILConfig). Features come from detection.features.
"""
