-- Fair admission (issue 18): each key's priority class, its limit on requests in the gateway at once, and its share
-- of a saturated model's queue. NULL: priority 5, no limit, weight 1.
ALTER TABLE api_keys ADD COLUMN priority INT NULL;
ALTER TABLE api_keys ADD COLUMN max_concurrent_requests INT NULL;
ALTER TABLE api_keys ADD COLUMN queue_weight INT NULL;
