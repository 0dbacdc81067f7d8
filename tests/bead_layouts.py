"""NTIA's BEAD challenge-process result files, column for column, written out by hand.

Source of the layouts: NTIA BroadbandUSA, "BEAD Challenge Process Data Submission - Data
Quality, File Formats, and Common Issues" (technical assistance, March 2024), which adds the
result CSV files to the BEAD Challenge Process Policy Notice (NTIA, 2023, section "data
format"), as the open BEAD Inspector validator enforces them (University of Chicago DSI,
``bead_inspector``, src/bead_inspector/validator.py at commit 6a83d36, 2024-08-08: column set
and order are checked). ``unserved.csv`` and ``underserved.csv`` are bare lists of location
ids without a header.
"""

from __future__ import annotations

EXPECTED_HEADERS = {
    "challengers.csv": "challenger,category,organization,webpage,provider_id,contact_name,contact_email,contact_phone",
    "challenges.csv": "challenge,challenge_type,challenger,challenge_date,rebuttal_date,resolution_date,disposition,"
    "provider_id,technology,location_id,unit,reason_code,evidence_file_id,response_file_id,resolution,"
    "advertised_download_speed,download_speed,advertised_upload_speed,upload_speed,latency",
    "cai.csv": "type,entity_name,entity_number,CMS number,frn,location_id,address_primary,city,state,zip_code,"
    "longitude,latitude,explanation,need,availability",
    "post_challenge_cai.csv": "type,entity_name,entity_number,CMS number,frn,location_id,address_primary,city,state,"
    "zip_code,longitude,latitude,explanation,need,availability",
    "cai_challenges.csv": "challenge,challenge_type,challenger,category_code,disposition,challenge_explanation,type,"
    "entity_name,entity_number,CMS number,frn,location_id,address_primary,city,state,zip_code,longitude,latitude,"
    "explanation,need,availability",
    "post_challenge_locations.csv": "location_id,classification",
}
HEADERLESS = ("unserved.csv", "underserved.csv")
