-- EDI X12: the interchange control number of each wholesale channel (ISA13/GS06/ST02), one more
-- for every document sent, so partners can tell a new interchange from a repeat.
CREATE TABLE x12_control (
  channel TEXT PRIMARY KEY NOT NULL,
  interchange INTEGER NOT NULL
) STRICT;
