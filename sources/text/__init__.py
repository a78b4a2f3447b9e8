"""Text out of bytes, pages and files: decoding, selectors, dates, comment deadlines,
attachment text (PDF, DOCX, DOC) and the bounded worker that extracts it."""
