-- silver.order_reviews: one row per (review_id, order_id) (review_id alone
-- is not unique in Olist), the most recently ingested record with a score
-- from 1 to 5; comment texts are trimmed, empty ones become NULL.
CREATE TABLE IF NOT EXISTS silver.order_reviews (
    review_id               text,
    order_id                text,
    review_score            int NOT NULL,
    review_comment_title    text,
    review_comment_message  text,
    review_creation_date    timestamp,
    review_answer_timestamp timestamp,
    PRIMARY KEY (review_id, order_id)
);

TRUNCATE silver.order_reviews;

INSERT INTO silver.order_reviews
SELECT DISTINCT ON (review_id, order_id)
       review_id, order_id, review_score, review_comment_title, review_comment_message,
       review_creation_date, review_answer_timestamp
FROM (
    SELECT trim(review_id)                        AS review_id,
           trim(order_id)                         AS order_id,
           review_score,
           nullif(trim(review_comment_title), '')   AS review_comment_title,
           nullif(trim(review_comment_message), '') AS review_comment_message,
           review_creation_date, review_answer_timestamp,
           _source_file, _source_line
    FROM bronze.order_reviews
) r
WHERE review_id <> ''
  AND order_id <> ''
  AND review_score BETWEEN 1 AND 5
ORDER BY review_id, order_id, _source_file DESC, _source_line DESC;
