-- Hourly rollups (bucket_size 3600) beside the 5-minute and daily ones, so stats over a day or
-- the ragged edges of a month read whole hours instead of 5-minute buckets. The writer keeps
-- them from now on; the rows of what was written before are added up from the 5-minute rows
-- by code that runs after this file in the same transaction (PostgresMigrator: histograms are a
-- Core format that SQL cannot merge). Any hourly row already there is recomputed.
DELETE FROM rollups WHERE bucket_size = 3600;
