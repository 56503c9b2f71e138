-- Streams resumed on another replica (issue 17): how many continuations a request needed and the replicas that
-- served its legs, in order ("3,1"). Nullable: rows written before this migration, and the toolkit's columns, stay
-- as they were. Written once for MariaDB/MySQL and for H2 in MySQL mode.
ALTER TABLE metrics ADD COLUMN resumes INT NULL;
ALTER TABLE metrics ADD COLUMN replicas VARCHAR(255) NULL;
