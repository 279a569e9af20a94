"""Phone calls from PBXs: a generic CTI webhook (newCall, answer, hangup) per PBX token."""
