"""The CRM's side of the member portal: which contacts may sign in, and the profile changes they
propose and staff decide. The pages themselves, which show the sign-ons, are in signatories/portal/.
"""
