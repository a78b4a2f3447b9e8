"""Seed data for the US (FDA, Federal Register) and EU (EMA) replicas.

Real titles where they matter — CBER's cell & gene therapy guidances, EMA's
ATMP guidelines — and many unrelated ones (food, devices, generic drugs,
vaccines, blood, tobacco, veterinary) so that a classifier has something to
reject. Filler records are generated from word lists with a fixed seed, so
every run of a replica serves the same bytes. ``pdf_bytes`` writes a small,
valid PDF whose text pypdf and pdfminer can extract.

Dockets, reference numbers and exact dates of the real titles are
plausible, not checked: this is test data, not a reference.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator, Sequence

# --- FDA -----------------------------------------------------------------------

CENTERS = {
    "CBER": "Center for Biologics Evaluation and Research",
    "CDER": "Center for Drug Evaluation and Research",
    "CDRH": "Center for Devices and Radiological Health",
    "CFSAN": "Center for Food Safety and Applied Nutrition",
    "HFP": "Human Foods Program",
    "CVM": "Center for Veterinary Medicine",
    "CTP": "Center for Tobacco Products",
    "OCE": "Oncology Center of Excellence",
    "OC": "Office of the Commissioner",
}

# CBER cellular & gene therapy guidances: title, status, issued, docket, CBER-page label, note.
FDA_CGT: list[tuple[str, str, str, str, str, str]] = [
    (
        (
            "Innovative Designs for Clinical Trials of Cellular and Gene Therapy Products in Small "
            "Populations"
        ),
        "Draft",
        "2025-09-26",
        "FDA-2025-D-3043",
        "Draft Guidance for Industry",
        "",
    ),
    (
        (
            "Postapproval Methods to Capture Safety and Efficacy Data for Cell and Gene Therapy "
            "Products"
        ),
        "Draft",
        "2025-09-26",
        "FDA-2025-D-3044",
        "Draft Guidance for Industry",
        "",
    ),
    (
        "Frequently Asked Questions — Developing Potential Cellular and Gene Therapy Products",
        "Draft",
        "2024-11-19",
        "FDA-2024-D-4435",
        "Draft Guidance for Industry",
        "",
    ),
    (
        "Safety Testing of Human Allogeneic Cells Expanded for Use in Cell-Based Medical Products",
        "Draft",
        "2024-04-26",
        "FDA-2024-D-1144",
        "Draft Guidance for Industry",
        "",
    ),
    (
        (
            "Considerations for the Use of Human- and Animal-Derived Materials in the Manufacture of "
            "Cell and Gene Therapy and Tissue-Engineered Medical Products"
        ),
        "Draft",
        "2024-04-10",
        "FDA-2024-D-0744",
        "Draft Guidance for Industry",
        "",
    ),
    (
        "Considerations for the Development of Chimeric Antigen Receptor (CAR) T Cell Products",
        "Final",
        "2024-01-30",
        "FDA-2022-D-0262",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated March 2022.",
    ),
    (
        "Human Gene Therapy Products Incorporating Human Genome Editing",
        "Final",
        "2024-01-30",
        "FDA-2022-D-0220",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated March 2022.",
    ),
    (
        "Potency Assurance for Cellular and Gene Therapy Products",
        "Draft",
        "2023-12-28",
        "FDA-2023-D-5405",
        "Draft Guidance for Industry",
        "",
    ),
    (
        "Manufacturing Changes and Comparability for Human Cellular and Gene Therapy Products",
        "Draft",
        "2023-07-19",
        "FDA-2023-D-2410",
        "Draft Guidance for Industry",
        "",
    ),
    (
        (
            "Studying Multiple Versions of a Cellular or Gene Therapy Product in an Early-Phase "
            "Clinical Trial"
        ),
        "Final",
        "2022-11-14",
        "FDA-2021-D-0733",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated September 2021.",
    ),
    (
        "Human Gene Therapy for Neurodegenerative Diseases",
        "Final",
        "2022-10-25",
        "FDA-2021-D-0008",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated January 2021.",
    ),
    (
        "Interpreting Sameness of Gene Therapy Products Under the Orphan Drug Regulations",
        "Draft",
        "2021-09-29",
        "FDA-2019-D-5392",
        "Draft Guidance for Industry",
        "",
    ),
    (
        (
            "Regulatory Considerations for Human Cells, Tissues, and Cellular and Tissue-Based "
            "Products: Minimal Manipulation and Homologous Use"
        ),
        "Final",
        "2020-07-22",
        "FDA-2017-D-6146",
        "Guidance for Industry and Food and Drug Administration Staff",
        "This guidance updates the guidance of the same title dated November 2017.",
    ),
    (
        "Human Gene Therapy for Rare Diseases",
        "Final",
        "2020-01-28",
        "FDA-2018-D-2173",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated July 2018.",
    ),
    (
        (
            "Chemistry, Manufacturing, and Control (CMC) Information for Human Gene Therapy "
            "Investigational New Drug Applications (INDs)"
        ),
        "Final",
        "2020-01-28",
        "FDA-2018-D-2258",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated July 2018.",
    ),
    (
        "Long Term Follow-Up After Administration of Human Gene Therapy Products",
        "Final",
        "2020-01-28",
        "FDA-2018-D-2438",
        "Guidance for Industry",
        "",
    ),
    (
        (
            "Testing of Retroviral Vector-Based Human Gene Therapy Products for Replication Competent "
            "Retrovirus During Product Manufacture and Patient Follow-up"
        ),
        "Final",
        "2020-01-28",
        "FDA-2018-D-2176",
        "Guidance for Industry",
        "",
    ),
    (
        "Human Gene Therapy for Hemophilia",
        "Final",
        "2020-01-28",
        "FDA-2018-D-2181",
        "Guidance for Industry",
        "",
    ),
    (
        "Human Gene Therapy for Retinal Disorders",
        "Final",
        "2020-01-28",
        "FDA-2018-D-2236",
        "Guidance for Industry",
        "",
    ),
    (
        "Expedited Programs for Regenerative Medicine Therapies for Serious Conditions",
        "Final",
        "2019-02-15",
        "FDA-2017-D-6159",
        "Guidance for Industry",
        "",
    ),
    (
        "Evaluation of Devices Used with Regenerative Medicine Advanced Therapies",
        "Final",
        "2019-02-15",
        "FDA-2017-D-6154",
        "Guidance for Industry",
        "",
    ),
    (
        (
            "Same Surgical Procedure Exception under 21 CFR 1271.15(b): Questions and Answers "
            "Regarding the Scope of the Exception"
        ),
        "Final",
        "2017-11-16",
        "FDA-2014-D-1584",
        "Guidance for Industry",
        "",
    ),
    (
        "Recommendations for Microbial Vectors Used for Gene Therapy",
        "Final",
        "2016-09-15",
        "FDA-2015-D-1354",
        "Guidance for Industry",
        "",
    ),
    (
        (
            "Design and Analysis of Shedding Studies for Virus or Bacteria-Based Gene Therapy and "
            "Oncolytic Products"
        ),
        "Final",
        "2015-08-28",
        "FDA-2014-D-0798",
        "Guidance for Industry",
        "",
    ),
    (
        (
            "Considerations for the Design of Early-Phase Clinical Trials of Cellular and Gene Therapy "
            "Products"
        ),
        "Final",
        "2015-06-11",
        "FDA-2013-D-0576",
        "Guidance for Industry",
        "This guidance finalizes the draft guidance of the same title dated July 2013.",
    ),
    (
        "Preclinical Assessment of Investigational Cellular and Gene Therapy Products",
        "Final",
        "2013-11-19",
        "FDA-2012-D-1038",
        "Guidance for Industry",
        "",
    ),
    (
        "Potency Tests for Cellular and Gene Therapy Products",
        "Final",
        "2011-01-28",
        "FDA-2008-D-0520",
        "Guidance for Industry",
        "",
    ),
    (
        "Cellular Therapy for Cardiac Disease",
        "Final",
        "2010-10-06",
        "FDA-2009-D-0132",
        "Guidance for Industry",
        "",
    ),
]

# Other FDA guidances: title, status, issued, lead centre, other offices, product, topic.
FDA_OTHER: list[tuple[str, str, str, str, str, str, str]] = [
    (
        "Bioanalytical Method Validation",
        "Final",
        "2018-05-24",
        "CDER",
        "CVM",
        "Drugs",
        "Clinical - Pharmacology",
    ),
    (
        "Data Integrity and Compliance With Drug CGMP: Questions and Answers",
        "Final",
        "2018-12-13",
        "CDER",
        "CBER CVM",
        "Drugs",
        "Current Good Manufacturing Practice (CGMP)",
    ),
    (
        "Investigating Out-of-Specification (OOS) Test Results for Pharmaceutical Production",
        "Final",
        "2022-05-16",
        "CDER",
        "",
        "Drugs",
        "Pharmaceutical Quality",
    ),
    (
        "ANDA Submissions — Refuse-to-Receive Standards",
        "Final",
        "2022-04-13",
        "CDER",
        "",
        "Drugs",
        "Generic Drugs",
    ),
    ("Competitive Generic Therapies", "Final", "2022-10-20", "CDER", "", "Drugs", "Generic Drugs"),
    (
        "Bioequivalence Studies With Pharmacokinetic Endpoints for Drugs Submitted Under an ANDA",
        "Draft",
        "2021-08-20",
        "CDER",
        "",
        "Drugs",
        "Generic Drugs",
    ),
    (
        "Content of Premarket Submissions for Device Software Functions",
        "Final",
        "2023-06-14",
        "CDRH",
        "CBER",
        "Medical Devices",
        "Digital Health",
    ),
    (
        (
            "Cybersecurity in Medical Devices: Quality System Considerations and Content of Premarket "
            "Submissions"
        ),
        "Final",
        "2025-06-27",
        "CDRH",
        "CBER",
        "Medical Devices",
        "Cybersecurity",
    ),
    (
        (
            "Marketing Submission Recommendations for a Predetermined Change Control Plan for "
            "Artificial Intelligence-Enabled Device Software Functions"
        ),
        "Final",
        "2024-12-04",
        "CDRH",
        "CBER CDER",
        "Medical Devices",
        "Artificial Intelligence",
    ),
    (
        "Clinical Decision Support Software",
        "Final",
        "2022-09-28",
        "CDRH",
        "CDER CBER",
        "Medical Devices",
        "Digital Health",
    ),
    (
        "Action Levels for Lead in Processed Food Intended for Babies and Young Children",
        "Final",
        "2025-01-06",
        "HFP",
        "",
        "Food & Beverages",
        "Food Safety",
    ),
    (
        "Hazard Analysis and Risk-Based Preventive Controls for Human Food",
        "Draft",
        "2016-08-24",
        "CFSAN",
        "",
        "Food & Beverages",
        "Food Safety Modernization Act (FSMA)",
    ),
    (
        "Menu Labeling: Supplemental Guidance for Industry",
        "Final",
        "2018-11-06",
        "CFSAN",
        "",
        "Food & Beverages",
        "Labeling",
    ),
    (
        (
            "Questions and Answers Regarding Food Allergens, Including the Food Allergen Labeling "
            "Requirements of the Federal Food, Drug, and Cosmetic Act (Edition 5)"
        ),
        "Final",
        "2022-11-29",
        "CFSAN",
        "",
        "Food & Beverages",
        "Food Allergens",
    ),
    (
        "Development and Licensure of Vaccines to Prevent COVID-19",
        "Final",
        "2020-06-30",
        "CBER",
        "",
        "Vaccines",
        "Vaccines",
    ),
    (
        "Emergency Use Authorization for Vaccines to Prevent COVID-19",
        "Final",
        "2022-03-31",
        "CBER",
        "",
        "Vaccines",
        "Vaccines",
    ),
    (
        (
            "Toxicity Grading Scale for Healthy Adult and Adolescent Volunteers Enrolled in Preventive "
            "Vaccine Clinical Trials"
        ),
        "Final",
        "2007-09-27",
        "CBER",
        "",
        "Vaccines",
        "Vaccines",
    ),
    (
        "Recommendations to Reduce the Risk of Transfusion-Transmitted Malaria",
        "Final",
        "2022-12-12",
        "CBER",
        "",
        "Blood & Blood Products",
        "Blood Safety",
    ),
    (
        (
            "Recommendations for Evaluating Donor Eligibility Using Individual Risk-Based Questions to "
            "Reduce the Risk of Human Immunodeficiency Virus Transmission by Blood and Blood Products"
        ),
        "Final",
        "2023-05-11",
        "CBER",
        "",
        "Blood & Blood Products",
        "Blood Safety",
    ),
    (
        "E6(R3) Good Clinical Practice (GCP)",
        "Final",
        "2025-09-08",
        "CDER",
        "CBER CDRH",
        "Drugs",
        "ICH - Efficacy",
    ),
    (
        "Q2(R2) Validation of Analytical Procedures",
        "Final",
        "2024-03-07",
        "CDER",
        "CBER",
        "Drugs",
        "ICH - Quality",
    ),
    (
        (
            "Q5A(R2) Viral Safety Evaluation of Biotechnology Products Derived From Cell Lines of Human "
            "or Animal Origin"
        ),
        "Final",
        "2024-07-29",
        "CDER",
        "CBER",
        "Biologics",
        "ICH - Quality",
    ),
    (
        (
            "Diversity Action Plans to Improve Enrollment of Participants from Underrepresented "
            "Populations in Clinical Studies"
        ),
        "Draft",
        "2024-06-26",
        "OC",
        "CDER CBER CDRH",
        "Drugs",
        "Clinical Trials",
    ),
    (
        "Conducting Clinical Trials With Decentralized Elements",
        "Final",
        "2024-09-17",
        "CDER",
        "CBER CDRH OCE",
        "Drugs",
        "Clinical Trials",
    ),
    (
        (
            "Optimizing the Dosage of Human Prescription Drugs and Biological Products for the "
            "Treatment of Oncologic Diseases"
        ),
        "Final",
        "2024-08-08",
        "OCE",
        "CDER CBER",
        "Drugs",
        "Oncology",
    ),
    (
        (
            "Considerations for the Use of Artificial Intelligence to Support Regulatory "
            "Decision-Making for Drug and Biological Products"
        ),
        "Draft",
        "2025-01-07",
        "CDER",
        "CBER CDRH CVM OCE",
        "Drugs",
        "Artificial Intelligence",
    ),
    (
        "Obesity and Overweight: Developing Drugs and Biological Products for Weight Reduction",
        "Draft",
        "2025-01-06",
        "CDER",
        "",
        "Drugs",
        "Clinical - Medical",
    ),
    (
        "Premarket Tobacco Product Applications for Electronic Nicotine Delivery Systems",
        "Final",
        "2019-06-11",
        "CTP",
        "",
        "Tobacco",
        "Tobacco Products",
    ),
    (
        "Animal Drug User Fees and Fee Waivers and Reductions",
        "Final",
        "2023-09-21",
        "CVM",
        "",
        "Animal & Veterinary",
        "User Fees",
    ),
    (
        "Compounding Animal Drugs from Bulk Drug Substances",
        "Final",
        "2022-04-12",
        "CVM",
        "",
        "Animal & Veterinary",
        "Compounding",
    ),
    (
        "Patient's Guide to Reporting Problems with Medical Devices & Radiation-Emitting Products",
        "Final",
        "2021-03-02",
        "CDRH",
        "",
        "Radiation-Emitting Products",
        "Reporting",
    ),
]

_DISEASES = [
    "Alzheimer's Disease",
    "Amyotrophic Lateral Sclerosis",
    "Atopic Dermatitis",
    ("Chronic Hepatitis B Virus Infection"),
    "Crohn's Disease",
    "Duchenne Muscular Dystrophy",
    "Migraine",
    "Major Depressive Disorder",
    "Nonalcoholic Steatohepatitis",
    "Osteoporosis",
    "Psoriasis",
    "Pulmonary Arterial Hypertension",
    "Rheumatoid Arthritis",
    "Schizophrenia",
    ("Sickle Cell Disease"),
    "Type 2 Diabetes Mellitus",
    "Ulcerative Colitis",
    "Uncomplicated Gonorrhea",
    "Complicated Urinary Tract Infections",
    "Acute Myeloid Leukemia",
    "Multiple Myeloma",
    "Heart Failure",
    "Chronic Kidney Disease",
    "Smoking Cessation",
    "Opioid Use Disorder",
    "Insomnia",
    "Gout",
    "Endometriosis",
    "Hypertriglyceridemia",
    "Cystic Fibrosis",
]
_DRUG_TOPICS = [
    "Developing Drugs for Treatment",
    "Developing Drugs and Biological Products for Treatment",
    "Developing Drugs for Prevention",
    "Clinical Trial Endpoints for Drug Development",
    "Pediatric Drug Development",
    "Developing Drugs for Long-Term Treatment",
]
_DEVICES = [
    "Intravascular Catheters",
    "Surgical Staplers",
    "Pulse Oximeters",
    "Infusion Pumps",
    "Hemodialysis Blood Tubing Sets",
    "Contact Lens Care Products",
    "Dental Implants",
    "Orthopedic Non-Spinal Metallic Bone Screws",
    "Blood Glucose Monitoring Test Systems",
    "Hearing Aids",
    "Surgical Masks",
    "Electrosurgical Devices",
    "Breast Implants",
    "Coronary Drug-Eluting Stents",
    "Cochlear Implants",
    "Powered Wheelchairs",
    "Total Knee Replacement Prostheses",
    "Ultrasound Imaging Systems",
    "Condoms",
    "Nucleic Acid-Based In Vitro Diagnostic Devices",
    "Continuous Glucose Monitors",
]
_DEVICE_FORMS = [
    "{d} — Premarket Notification [510(k)] Submissions",
    "{d}: Performance Criteria for Safety and Performance Based Pathway",
    "Class II Special Controls Guidance Document: {d}",
    "{d}: Labeling Recommendations",
    "Recommendations for the Content of Premarket Submissions for {d}",
]
_FOODS = [
    "Juice",
    "Seafood",
    "Infant Formula",
    "Low-Acid Canned Foods",
    "Sprouts",
    ("Dietary Supplements"),
    "Bottled Water",
    "Fresh-Cut Produce",
    "Tree Nuts",
    "Sesame",
    "Pet Food",
    "Cheese Made From Unpasteurized Milk",
    "Egg Products",
    "Honey",
    "Spices",
]
_FOOD_FORMS = [
    "Hazard Analysis and Critical Control Point (HACCP) Guidance: {f}",
    "Voluntary Sodium Reduction Goals: {f}",
    "Labeling of {f}: Questions and Answers",
    "Food Traceability Rule: {f}",
    "Reducing Microbial Food Safety Hazards in {f}",
]
_VACCINE_FORMS = [
    "Development of {p} Vaccines",
    ("Clinical Data Needed to Support the Licensure of {p} Vaccines"),
    ("Recommendations for Reducing the Risk of {p} Transmission by Blood and Blood Components"),
    "Testing for {p} in Donors of Blood and Blood Components",
]
_PATHOGENS = [
    "Seasonal Inactivated Influenza",
    "Pandemic Influenza",
    "Respiratory Syncytial Virus",
    "Zika Virus",
    "West Nile Virus",
    "Chikungunya",
    "Dengue",
    "Hepatitis E Virus",
    "Babesia",
    "Trypanosoma cruzi",
    "Mpox",
    "Ebola Virus",
]
_VET_TOPICS = [
    "Target Animal Safety for Veterinary Pharmaceutical Products",
    ("Antimicrobial Drugs in Food-Producing Animals"),
    "Bioequivalence of Veterinary Drugs",
    "Residue Depletion Studies",
    "Effectiveness of Anthelmintics",
    "Chemistry, Manufacturing, and Controls Changes",
]
_TOBACCO_TOPICS = [
    "Harmful and Potentially Harmful Constituents in Tobacco Products",
    ("Modified Risk Tobacco Product Applications"),
    "Tobacco Product Manufacturing Practice",
    ("Premarket Review of Cigars"),
    "Enforcement Priorities for Flavored Cartridge-Based ENDS Products",
]

FDA_PRODUCT = {
    "CDER": "Drugs",
    "CDRH": "Medical Devices",
    "CFSAN": "Food & Beverages",
    "HFP": "Food & Beverages",
    "CVM": "Animal & Veterinary",
    "CTP": "Tobacco",
    "CBER": "Biologics",
    "OCE": "Drugs",
    "OC": "Drugs",
}


def fda_filler(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """Endless (title, lead centre, topic) for non-CGT FDA guidances."""
    while True:
        pick = rng.random()
        if pick < 0.35:
            title = f"{rng.choice(_DISEASES)}: {rng.choice(_DRUG_TOPICS)}"
            yield title, "CDER", "Clinical - Medical"
        elif pick < 0.6:
            form = rng.choice(_DEVICE_FORMS)
            yield form.format(d=rng.choice(_DEVICES)), "CDRH", "Premarket"
        elif pick < 0.75:
            form = rng.choice(_FOOD_FORMS)
            yield form.format(f=rng.choice(_FOODS)), rng.choice(["CFSAN", "HFP"]), "Food Safety"
        elif pick < 0.87:
            form = rng.choice(_VACCINE_FORMS)
            yield form.format(p=rng.choice(_PATHOGENS)), "CBER", "Vaccines"
        elif pick < 0.94:
            title = f"CVM GFI #{rng.randint(100, 290)} {rng.choice(_VET_TOPICS)}"
            yield title, "CVM", "Animal Drugs"
        else:
            yield rng.choice(_TOBACCO_TOPICS), "CTP", "Tobacco Products"


# --- EMA -------------------------------------------------------------------------

# ATMP guidelines: name, status, first published (ISO), reference number.
EMA_CGT: list[tuple[str, str, str, str]] = [
    (
        (
            "Guideline on quality, non-clinical and clinical requirements for investigational "
            "advanced therapy medicinal products in clinical trials"
        ),
        "Adopted",
        "2025-01-20",
        "EMA/CAT/123573/2024",
    ),
    (
        (
            "Guideline on the quality, non-clinical and clinical aspects of gene therapy medicinal "
            "products"
        ),
        "Adopted",
        "2018-03-22",
        "EMA/CAT/80183/2014",
    ),
    (
        "Guideline on human cell-based medicinal products",
        "Adopted",
        "2008-05-21",
        "EMEA/CHMP/410869/2006",
    ),
    (
        (
            "Guideline on quality, non-clinical and clinical aspects of medicinal products containing "
            "genetically modified cells"
        ),
        "Adopted",
        "2020-11-20",
        "EMA/CAT/GTWP/671639/2008 Rev. 1",
    ),
    (
        (
            "Guideline on safety and efficacy follow-up and risk management of advanced therapy "
            "medicinal products"
        ),
        "Adopted",
        "2018-02-13",
        "EMEA/149995/2008 rev.1",
    ),
    (
        "Reflection paper on classification of advanced therapy medicinal products",
        "Adopted",
        "2015-05-21",
        "EMA/CAT/600280/2010 rev.1",
    ),
    (
        (
            "Guideline on the risk-based approach according to annex I, part IV of Directive "
            "2001/83/EC applied to advanced therapy medicinal products"
        ),
        "Adopted",
        "2013-03-11",
        "EMA/CAT/CPWP/686637/2011",
    ),
    (
        "Reflection paper on stem cell-based medicinal products",
        "Adopted",
        "2011-01-14",
        "EMA/CAT/571134/2009",
    ),
    (
        (
            "Guideline on non-clinical studies required before first clinical use of gene therapy "
            "medicinal products"
        ),
        "Adopted",
        "2008-05-30",
        "EMEA/CHMP/GTWP/125459/2006",
    ),
    (
        "Guideline on follow-up of patients administered with gene therapy medicinal products",
        "Adopted",
        "2009-11-05",
        "EMEA/CHMP/GTWP/60436/2007",
    ),
    (
        (
            "Questions and answers on comparability considerations for advanced therapy medicinal "
            "products (ATMP)"
        ),
        "Adopted",
        "2019-12-06",
        "EMA/CAT/499821/2019",
    ),
    (
        "Guideline on xenogeneic cell-based medicinal products",
        "Adopted",
        "2009-12-04",
        "EMEA/CHMP/CPWP/83508/2009",
    ),
    (
        (
            "Reflection paper on in-vitro cultured chondrocyte containing products for cartilage "
            "repair of the knee"
        ),
        "Adopted",
        "2010-05-05",
        "EMA/CAT/CPWP/568181/2009",
    ),
    (
        (
            "Guideline on scientific requirements for the environmental risk assessment of gene therapy "
            "medicinal products"
        ),
        "Adopted",
        "2008-06-16",
        "EMEA/CHMP/GTWP/125491/2006",
    ),
    (
        (
            "Guideline on potency testing of cell based immunotherapy medicinal products for the "
            "treatment of cancer"
        ),
        "Adopted",
        "2016-09-29",
        "CHMP/BWP/271475/2006 rev.1",
    ),
    (
        (
            "Reflection paper on design modifications of gene therapy medicinal products during "
            "development"
        ),
        "Adopted",
        "2012-02-14",
        "EMA/CAT/GTWP/44236/2009",
    ),
    (
        "Reflection paper on management of clinical risks deriving from insertional mutagenesis",
        "Adopted",
        "2013-04-23",
        "EMA/CAT/190186/2012",
    ),
    (
        "Guideline on development and manufacture of lentiviral vectors",
        "Adopted",
        "2005-05-26",
        "CHMP/BWP/2458/03",
    ),
    (
        (
            "Concept paper on the revision of the guideline on quality, non-clinical and clinical "
            "aspects of medicinal products containing genetically modified cells"
        ),
        "Draft: consultation closed",
        "2024-07-26",
        "EMA/CAT/204021/2024",
    ),
    (
        (
            "Concept paper on the development of a guideline on allogeneic chimeric antigen receptor "
            "(CAR) T-cell medicinal products"
        ),
        "Draft: consultation open",
        "2026-10-15",
        "EMA/CAT/311045/2026",
    ),
]

EMA_OTHER: list[tuple[str, str, str, str]] = [
    ("Investigation of chiral active substances", "Adopted", "1993-10-01", "3CC29A"),
    (
        "Guideline on bioanalytical method validation",
        "Adopted",
        "2011-07-21",
        "EMEA/CHMP/EWP/192217/2009 Rev. 1 Corr. 2",
    ),
    (
        "ICH E6 (R3) Guideline on good clinical practice (GCP)",
        "Adopted",
        "2025-01-23",
        "EMA/CHMP/ICH/135/1995",
    ),
    (
        (
            "ICH Q5A(R2) Guideline on viral safety evaluation of biotechnology products derived from "
            "cell lines of human or animal origin"
        ),
        "Adopted",
        "2023-12-14",
        "EMA/CHMP/ICH/804363/2022",
    ),
    (
        "Guideline on clinical evaluation of vaccines",
        "Adopted",
        "2023-06-12",
        "EMEA/CHMP/VWP/164653/05 Rev. 1",
    ),
    (
        "Guideline on the investigation of bioequivalence",
        "Adopted",
        "2010-01-20",
        "CPMP/EWP/QWP/1401/98 Rev. 1",
    ),
    (
        "Guideline on similar biological medicinal products",
        "Adopted",
        "2014-10-23",
        "CHMP/437/04 Rev 1",
    ),
    (
        (
            "Guideline on process validation for finished products - information and data to be "
            "provided in regulatory submissions"
        ),
        "Adopted",
        "2016-11-21",
        "EMA/CHMP/CVMP/QWP/BWP/70278/2012-Rev1",
    ),
    (
        "Guideline on the quality of water for pharmaceutical use",
        "Adopted",
        "2020-07-20",
        "EMA/CHMP/CVMP/QWP/496873/2018",
    ),
    (
        (
            "Reflection paper on the use of artificial intelligence (AI) in the medicinal product "
            "lifecycle"
        ),
        "Adopted",
        "2024-09-09",
        "EMA/CHMP/CVMP/83833/2023",
    ),
    (
        "Guideline on the evaluation of anticancer medicinal products in man",
        "Adopted",
        "2023-01-31",
        "EMA/CHMP/205/95 Rev.6",
    ),
    (
        (
            "Guideline on clinical investigation of medicinal products in the treatment of "
            "hypertension"
        ),
        "Adopted",
        "2016-11-23",
        "EMA/CHMP/29947/2013/Rev. 4",
    ),
    (
        "Draft guideline on the development and manufacture of synthetic peptides",
        "Draft: consultation closed",
        "2023-10-12",
        "EMA/CHMP/CVMP/QWP/387541/2023",
    ),
]

_EMA_AREAS = [
    "diabetes mellitus",
    "chronic heart failure",
    "multiple sclerosis",
    "osteoarthritis",
    "asthma",
    "chronic obstructive pulmonary disease",
    "schizophrenia",
    "depression",
    "epilepsy",
    "Parkinson's disease",
    "Alzheimer's disease",
    "psoriasis",
    "ulcerative colitis",
    "Crohn's disease",
    "venous thromboembolism",
    "lipid disorders",
    "obesity",
    "HIV infection",
    "hepatitis C",
    "bacterial infections",
    "fungal infections",
    "prostate cancer",
    "non-small cell lung cancer",
    "chronic kidney disease",
    "overactive bladder",
]
_EMA_QUALITY = [
    "oral modified release products",
    "transdermal patches",
    "inhalation and nasal products",
    "parenteral preparations",
    "herbal medicinal products",
    "radiopharmaceuticals",
    "excipients in the dossier",
    "stability testing of existing active substances",
    "plastic immediate packaging materials",
    "sterilisation of the medicinal product",
    "elemental impurities",
    "nitrosamine impurities",
    "container closure systems",
]
_EMA_OTHER_TYPES = [
    ("minutes", "Minutes of the {c} meeting {d}"),
    ("agenda", "Agenda - {c} agenda of the {d} meeting"),
    (
        "report",
        ("{c} monthly report of application procedures, guidelines and related documents - {m}"),
    ),
    ("other", "Overview of comments received on '{g}'"),
    ("product-information", "{n} : EPAR - Product information"),
    ("assessment-report", "{n} : EPAR - Public assessment report"),
    ("press-release", "Meeting highlights from the {c} {d}"),
    ("presentation", "Presentation - {g} ({c} workshop)"),
    ("template-form", "Template for {g} submissions"),
    ("regulatory-procedural-guideline", "Procedural advice on {g}"),
]
_COMMITTEES = ["CAT", "CHMP", "PRAC", "COMP", "PDCO", "CVMP", "HMPC"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_SYLLABLES = [
    "zo",
    "lix",
    "ta",
    "ver",
    "mab",
    "ni",
    "cel",
    "ra",
    "quin",
    "do",
    "fen",
    "tri",
    "lo",
    "xa",
    "vo",
    "pra",
    "sen",
    "ti",
    "gal",
    "mor",
]


def ema_guideline_filler(rng: random.Random) -> Iterator[str]:
    """Endless names of non-ATMP scientific guidelines."""
    while True:
        pick = rng.random()
        area = rng.choice(_EMA_AREAS)
        quality = rng.choice(_EMA_QUALITY)
        if pick < 0.4:
            yield (
                "Guideline on clinical investigation of medicinal products for the treatment "
                f"of {area}"
            )
        elif pick < 0.6:
            yield f"Guideline on the quality of {quality}"
        elif pick < 0.75:
            yield f"Reflection paper on {quality}"
        elif pick < 0.88:
            yield f"Questions and answers on {quality}"
        else:
            yield f"Concept paper on the revision of the guideline on {area}"


def ema_other_filler(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Endless (type, name) of EMA documents that are not scientific guidelines."""
    while True:
        kind, form = rng.choice(_EMA_OTHER_TYPES)
        day = rng.randint(1, 27)
        year = rng.randint(2010, 2026)
        month = rng.choice(_MONTHS)
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        yield (
            kind,
            form.format(
                c=rng.choice(_COMMITTEES),
                d=f"{day}-{day + 2} {month} {year}",
                m=f"{month} {year}",
                g=rng.choice(_EMA_QUALITY),
                n=name,
            ),
        )


# --- helpers -------------------------------------------------------------------------

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "onto",
        "or",
        "per",
        "than",
        "the",
        "this",
        "that",
        "to",
        "via",
        "with",
    ]
)


def slugify(title: str, *, drop_stopwords: bool = False) -> str:
    """A Drupal-pathauto-like slug: lower case, ASCII, words joined by ``-``."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    text = text.replace("&amp;", " ").replace("'", "")
    words = re.findall(r"[a-z0-9]+", text)
    if drop_stopwords:
        words = [w for w in words if w not in _STOPWORDS]
    return "-".join(words)[:120].rstrip("-")


def pdf_bytes(title: str, lines: Sequence[str] = ()) -> bytes:
    """A small valid PDF (Helvetica, WinAnsi) holding ``title`` and ``lines``,
    wrapped at ~90 characters, 48 lines a page."""
    wrapped: list[str] = []
    for line in [title, "", *lines]:
        words, current = line.split(), ""
        if not words:
            wrapped.append("")
        for word in words:
            if current and len(current) + 1 + len(word) > 90:
                wrapped.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        if current:
            wrapped.append(current)
    pages = [wrapped[i : i + 48] for i in range(0, len(wrapped), 48)] or [[]]
    objects: list[bytes] = []
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids).encode()
    count = str(len(pages)).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + count + b" >>")
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(b"<< /Title (" + _pdf_string(title[:200]) + b") /Producer (regwatch replica) >>")
    for page in pages:
        stream = (
            b"BT /F1 10 Tf 14 TL 56 760 Td\n"
            + b"".join(b"(" + _pdf_string(text) + b") Tj T*\n" for text in page)
            + b"ET"
        )
        page_no = len(objects) + 1
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R"
            b" >> >> /Contents " + str(page_no + 1).encode() + b" 0 R >>"
        )
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    raw = text.replace("—", "-").replace("–", "-").encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
