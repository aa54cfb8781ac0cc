"""File transfer: file content and streamed multipart bodies, requests to the presigned storage,
uploads (`pachca.files`), binary downloads, and saving chat exports (`pachca.chats`)."""
